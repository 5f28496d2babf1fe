//! Combined-stream aggTrade frames read as Trade JSON records.
//!
//! A frame is taken only in the exact form Binance sends:
//! `{"stream":"<symbol>@aggTrade","data":{"e":"aggTrade","E":..,"s":"..","a":..,"p":"..",
//! "q":"..","f":..,"l":..,"T":..,"m":..,"M":..}}`, keys in that order, no spaces, with the
//! contract's checks on every field. Anything else is refused, and the Python path (which also
//! says what is wrong with a bad frame) reads it.

use crate::trade::{decimal, integer, symbol, Trade};

/// Reads `frame` from its start: each step either matches or refuses the frame.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn literal(&mut self, text: &[u8]) -> Option<()> {
        self.rest = self.rest.strip_prefix(text)?;
        Some(())
    }

    /// The text up to the next `"`, which is consumed (no escapes: a backslash refuses).
    fn text(&mut self) -> Option<&'a [u8]> {
        let end = self.rest.iter().position(|&b| b == b'"' || b == b'\\')?;
        let text = &self.rest[..end];
        self.rest = &self.rest[end..];
        self.literal(b"\"")?;
        Some(text)
    }

    /// The non-negative integer at the cursor (see [`integer`]).
    fn integer(&mut self) -> Option<i64> {
        let end = self
            .rest
            .iter()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(self.rest.len());
        let digits = &self.rest[..end];
        self.rest = &self.rest[end..];
        integer(digits)
    }

    fn boolean(&mut self) -> Option<bool> {
        if self.literal(b"true").is_some() {
            Some(true)
        } else {
            self.literal(b"false").map(|()| false)
        }
    }
}

/// The trade of an aggTrade frame in Binance's form, received at `receive_time`; None for any
/// other frame.
pub fn read_frame(frame: &[u8], receive_time: i64) -> Option<Trade<'_>> {
    let mut at = Cursor { rest: frame };
    at.literal(b"{\"stream\":\"")?;
    let stream = at.text()?;
    at.literal(b",\"data\":{\"e\":\"aggTrade\",\"E\":")?;
    let event_time = at.integer()?;
    at.literal(b",\"s\":\"")?;
    let symbol = symbol(at.text()?)?;
    let expected = [&symbol.to_ascii_lowercase()[..], b"@aggTrade"].concat();
    if stream != expected {
        return None;
    }
    at.literal(b",\"a\":")?;
    let agg_id = at.integer()?;
    at.literal(b",\"p\":\"")?;
    let price = decimal(at.text()?)?;
    at.literal(b",\"q\":\"")?;
    let qty = decimal(at.text()?)?;
    at.literal(b",\"f\":")?;
    let first_id = at.integer()?;
    at.literal(b",\"l\":")?;
    let last_id = at.integer()?;
    at.literal(b",\"T\":")?;
    let trade_time = at.integer()?;
    at.literal(b",\"m\":")?;
    let buyer_is_maker = at.boolean()?;
    at.literal(b",\"M\":")?;
    at.boolean()?;
    at.literal(b"}}")?;
    if !at.rest.is_empty() {
        return None;
    }
    Trade {
        agg_id,
        price,
        qty,
        first_id,
        last_id,
        trade_time,
        buyer_is_maker,
        event_time,
        receive_time,
        symbol,
    }
    .checked()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: &[u8] = b"{\"stream\":\"btcusdt@aggTrade\",\"data\":{\"e\":\"aggTrade\",\
        \"E\":1629000000200,\"s\":\"BTCUSDT\",\"a\":7,\"p\":\"42000.10\",\"q\":\"0.5\",\
        \"f\":10,\"l\":12,\"T\":1629000000123,\"m\":true,\"M\":true}}";

    #[test]
    fn a_frame_in_binance_form_is_read() {
        let trade = read_frame(FRAME, 99).unwrap();
        assert_eq!((trade.agg_id, trade.first_id, trade.last_id), (7, 10, 12));
        assert_eq!(
            (trade.price, trade.qty, trade.symbol),
            (&b"42000.10"[..], &b"0.5"[..], &b"BTCUSDT"[..])
        );
        assert_eq!(
            (trade.trade_time, trade.event_time, trade.receive_time),
            (1629000000123, 1629000000200, 99)
        );
        assert!(trade.buyer_is_maker);
    }

    #[test]
    fn any_other_frame_is_refused() {
        let text = std::str::from_utf8(FRAME).unwrap();
        for (from, to) in [
            ("btcusdt@aggTrade", "ethusdt@aggTrade"),
            ("\"p\":\"42000.10\"", "\"p\":\"4.2e4\""),
            ("\"a\":7", "\"a\":07"),
            ("\"a\":7", "\"a\":-7"),
            ("\"f\":10", "\"f\":13"),
            ("\"m\":true", "\"m\":1"),
            ("\"BTCUSDT\"", "\"BTC\\u0055SDT\""),
            ("{\"e\"", "{ \"e\""),
            ("}}", "}} "),
            ("\"M\":true}", "\"M\":true,\"x\":1}"),
            ("\"aggTrade\",\"E\"", "\"trade\",\"E\""),
        ] {
            let frame = text.replacen(from, to, 1);
            assert!(read_frame(frame.as_bytes(), 0).is_none(), "{frame}");
        }
    }
}
