//! Blocks of a bulk aggTrades CSV checked and rendered as Trade JSON values.
//!
//! A block is taken only if every line is in the form Binance writes,
//! `aggId,price,qty,firstId,lastId,time,isBuyerMaker,isBestMatch`, with the same rules as the
//! Python path's block check (`streamforge.exchanges.binance.bulk`): integers without leading
//! zeros, decimals as `[0-9]+(\.[0-9]+)?`, `True` or `False`, and first id not above last id.
//! Anything else (and integers of more than 18 digits, which might not fit) is refused as a
//! whole, and the Python path, which names the bad line, takes the block.

use crate::record_batch::BatchWriter;

/// Above this, a bulk timestamp is in microseconds (as milliseconds it would be after 5000).
const MICROSECONDS_ABOVE: i64 = 100_000_000_000_000;
const COLUMNS: usize = 8;

/// What fills a gap between two constant pieces of the Trade JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    AggId,
    Price,
    Qty,
    FirstId,
    LastId,
    /// The trade time in milliseconds (a bulk row's trade time is also its event time).
    TimeMs,
    BuyerIsMaker,
}

impl Slot {
    /// The slot numbered `code` (the order of the variants above).
    pub fn from_code(code: u8) -> Option<Slot> {
        [
            Slot::AggId,
            Slot::Price,
            Slot::Qty,
            Slot::FirstId,
            Slot::LastId,
            Slot::TimeMs,
            Slot::BuyerIsMaker,
        ]
        .get(code as usize)
        .copied()
    }
}

/// The Trade JSON of a row: `pieces[0] slot[0] pieces[1] ... slot[n-1] pieces[n]`.
pub struct Template {
    pub pieces: Vec<Vec<u8>>,
    pub slots: Vec<Slot>,
}

/// The last trade of a block taken: how many, and the last one's id and time (epoch ms).
#[derive(Debug, PartialEq, Eq)]
pub struct Taken {
    pub count: usize,
    pub last_id: i64,
    pub last_time: i64,
}

struct Row<'a> {
    agg_id: i64,
    price: &'a [u8],
    qty: &'a [u8],
    first_id: i64,
    last_id: i64,
    time_ms: i64,
    buyer_is_maker: bool,
}

/// Renders the rows of `block` with ids above `after_id` into `writer`; None (and `writer` is
/// to be dropped) if any line of the block is not in Binance's form.
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
        let row = parse_row(line)?;
        if row.agg_id <= after_id {
            continue;
        }
        value.clear();
        render(&row, template, &mut value);
        writer.append(&value);
        taken.count += 1;
        taken.last_id = row.agg_id;
        taken.last_time = row.time_ms;
    }
    Some(taken)
}

fn parse_row(line: &[u8]) -> Option<Row<'_>> {
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
    let row = Row {
        agg_id: integer(agg_id)?,
        price: decimal(price)?,
        qty: decimal(qty)?,
        first_id: integer(first_id)?,
        last_id: integer(last_id)?,
        time_ms: millis(integer(time)?),
        buyer_is_maker: boolean(buyer_is_maker)?,
    };
    (row.first_id <= row.last_id).then_some(row)
}

fn integer(cell: &[u8]) -> Option<i64> {
    if cell.is_empty() || cell.len() > 18 || (cell[0] == b'0' && cell.len() > 1) {
        return None;
    }
    cell.iter().try_fold(0i64, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0'))
    })
}

fn decimal(cell: &[u8]) -> Option<&[u8]> {
    let (whole, fraction) = match cell.iter().position(|&b| b == b'.') {
        Some(dot) => (&cell[..dot], Some(&cell[dot + 1..])),
        None => (cell, None),
    };
    let digits = |part: &[u8]| !part.is_empty() && part.iter().all(u8::is_ascii_digit);
    (digits(whole) && fraction.is_none_or(digits)).then_some(cell)
}

fn boolean(cell: &[u8]) -> Option<bool> {
    match cell {
        b"True" => Some(true),
        b"False" => Some(false),
        _ => None,
    }
}

fn millis(timestamp: i64) -> i64 {
    if timestamp > MICROSECONDS_ABOVE {
        timestamp / 1000
    } else {
        timestamp
    }
}

fn render(row: &Row<'_>, template: &Template, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    for (piece, slot) in template.pieces.iter().zip(&template.slots) {
        out.extend_from_slice(piece);
        match slot {
            Slot::AggId => out.extend_from_slice(itoa(row.agg_id, &mut digits)),
            Slot::Price => out.extend_from_slice(row.price),
            Slot::Qty => out.extend_from_slice(row.qty),
            Slot::FirstId => out.extend_from_slice(itoa(row.first_id, &mut digits)),
            Slot::LastId => out.extend_from_slice(itoa(row.last_id, &mut digits)),
            Slot::TimeMs => out.extend_from_slice(itoa(row.time_ms, &mut digits)),
            Slot::BuyerIsMaker => out.extend_from_slice(if row.buyer_is_maker {
                b"true"
            } else {
                b"false"
            }),
        }
    }
    out.extend_from_slice(template.pieces.last().expect("a template ends in a piece"));
}

/// The decimal digits of a non-negative `n`, written at the end of `buffer`.
fn itoa(mut n: i64, buffer: &mut [u8; 20]) -> &[u8] {
    let mut start = buffer.len();
    loop {
        start -= 1;
        buffer[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buffer[start..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> Template {
        let pieces = ["{", ",", ",", ",", ",", ",", ",", "}"];
        Template {
            pieces: pieces.iter().map(|p| p.as_bytes().to_vec()).collect(),
            slots: vec![
                Slot::AggId,
                Slot::Price,
                Slot::Qty,
                Slot::FirstId,
                Slot::LastId,
                Slot::TimeMs,
                Slot::BuyerIsMaker,
            ],
        }
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
        let block = b"7,1.50,2,10,12,1629000000123,True,True\n8,3,0.001,13,13,1735689600000123,False,True\n";
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
