//! Blocks of a bulk aggTrades CSV checked and framed as Trade JSON records.
//!
//! A block is taken only if every line is in the form Binance writes,
//! `aggId,price,qty,firstId,lastId,time,isBuyerMaker,isBestMatch`, with the rules of the
//! Python path's block check (`streamforge.exchanges.binance.bulk`). Anything else is refused
//! as a whole, and the Python path, which names the bad line, takes the block.

use crate::record_batch::BatchWriter;
use crate::trade::{decimal, integer, millis, Template, Trade};

const COLUMNS: usize = 8;

/// The trades of a block taken: how many, and the last one's id and time (epoch ms).
#[derive(Debug, PartialEq, Eq)]
pub struct Taken {
    pub count: usize,
    pub last_id: i64,
    pub last_time: i64,
}

/// Frames the trades of `block` with ids above `after_id` into `writer`, rendered with
/// `template` (whose symbol and receive time are constants); None (and `writer` is to be
/// dropped) if any line of the block is not in Binance's form.
pub fn frame_block(
    block: &[u8],
    template: &Template,
    after_id: i64,
    writer: &mut BatchWriter<'_>,
) -> Option<Taken> {
    if block.last() != Some(&b'\n') {
        return None;
    }
    let mut taken = Taken {
        count: 0,
        last_id: -1,
        last_time: -1,
    };
    let mut value = Vec::with_capacity(512);
    for line in block[..block.len() - 1].split(|&b| b == b'\n') {
        let trade = parse_row(line)?;
        if trade.agg_id <= after_id {
            continue;
        }
        value.clear();
        template.render(&trade, &mut value);
        writer.append(&value);
        taken.count += 1;
        taken.last_id = trade.agg_id;
        taken.last_time = trade.trade_time;
    }
    Some(taken)
}

fn parse_row(line: &[u8]) -> Option<Trade<'_>> {
    let mut cells: [&[u8]; COLUMNS] = [&[]; COLUMNS];
    let mut parts = line.split(|&b| b == b',');
    for cell in cells.iter_mut() {
        *cell = parts.next()?;
    }
    if parts.next().is_some() {
        return None;
    }
    let [agg_id, price, qty, first_id, last_id, time, buyer_is_maker, best_match] = cells;
    boolean(best_match)?;
    let time = millis(integer(time)?); // a bulk row's trade time is also its event time
    Trade {
        agg_id: integer(agg_id)?,
        price: decimal(price)?,
        qty: decimal(qty)?,
        first_id: integer(first_id)?,
        last_id: integer(last_id)?,
        trade_time: time,
        buyer_is_maker: boolean(buyer_is_maker)?,
        event_time: time,
        receive_time: 0,
        symbol: b"",
    }
    .checked()
}

fn boolean(cell: &[u8]) -> Option<bool> {
    match cell {
        b"True" => Some(true),
        b"False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> Template {
        let pieces = ["{", ",", ",", ",", ",", ",", ",", "}"];
        let pieces = pieces.iter().map(|p| p.as_bytes().to_vec()).collect();
        Template::new(pieces, &[0, 1, 2, 3, 4, 5, 6]).unwrap()
    }

    fn values(block: &[u8], after_id: i64) -> Option<(Taken, Vec<Vec<u8>>)> {
        let template = template();
        let mut writer = BatchWriter::new(None, 0, 1 << 20);
        let taken = frame_block(block, &template, after_id, &mut writer)?;
        let rendered = writer.finish();
        let values = rendered
            .first()
            .map(|(batch, _)| {
                batch[61..]
                    .split(|&b| b == b'{')
                    .skip(1)
                    .map(|v| v.to_vec())
                    .collect()
            })
            .unwrap_or_default();
        Some((taken, values))
    }

    #[test]
    fn rows_in_binance_form_are_rendered_with_times_in_milliseconds() {
        let block = b"7,1.50,2,10,12,1629000000123,True,True\n\
                      8,3,0.001,13,13,1735689600000123,False,True\n";
        let (taken, values) = values(block, -1).unwrap();
        assert_eq!(
            taken,
            Taken {
                count: 2,
                last_id: 8,
                last_time: 1735689600000
            }
        );
        assert!(values[0].starts_with(b"7,1.50,2,10,12,1629000000123,true}"));
        assert!(values[1].starts_with(b"8,3,0.001,13,13,1735689600000,false}"));
    }

    #[test]
    fn rows_up_to_after_id_are_checked_but_not_taken() {
        let block = b"7,1,2,10,12,5,True,True\n8,1,2,13,13,6,False,True\n";
        assert_eq!(
            values(block, 7).unwrap().0,
            Taken {
                count: 1,
                last_id: 8,
                last_time: 6
            }
        );
        assert_eq!(values(block, 8).unwrap().0.count, 0);
        assert!(values(b"7,1,2,10,12,5,True,True\n8,x,2,13,13,6,False,True\n", 8).is_none());
    }

    #[test]
    fn any_line_out_of_form_refuses_the_block() {
        for bad in [
            &b"07,1,2,10,12,5,True,True\n"[..],
            b"7,1.,2,10,12,5,True,True\n",
            b"7,.5,2,10,12,5,True,True\n",
            b"7,1,2,10,12,5,true,True\n",
            b"7,1,2,10,12,5,True\n",
            b"7,1,2,10,12,5,True,True,1\n",
            b"7,1,2,13,12,5,True,True\n",
            b"7,1,2,10,12,5,True,True",
            b"7,1,2,10,12,5,True,True\n\n",
            b"7,1,2,10,12,5,True,True\r\n",
            b"1234567890123456789,1,2,10,12,5,True,True\n",
            b"",
        ] {
            assert!(
                values(bad, -1).is_none(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
