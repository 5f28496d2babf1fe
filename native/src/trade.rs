//! An aggregate trade's fields, checked as the Trade contract checks them, and its Trade JSON
//! rendered from a template that the Python side makes by encoding a Trade of sentinel values.

/// Above this, a bulk timestamp is in microseconds (as milliseconds it would be after 5000).
const MICROSECONDS_ABOVE: i64 = 100_000_000_000_000;

/// What fills a gap between two constant pieces of the Trade JSON, numbered as the Python
/// side's `TEMPLATE_SLOTS` numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    AggId,
    Price,
    Qty,
    FirstId,
    LastId,
    TradeTime,
    BuyerIsMaker,
    EventTime,
    ReceiveTime,
    Symbol,
}

const SLOTS: [Slot; 10] = [
    Slot::AggId,
    Slot::Price,
    Slot::Qty,
    Slot::FirstId,
    Slot::LastId,
    Slot::TradeTime,
    Slot::BuyerIsMaker,
    Slot::EventTime,
    Slot::ReceiveTime,
    Slot::Symbol,
];

impl Slot {
    /// The slot numbered `code`.
    pub fn from_code(code: u8) -> Option<Slot> {
        SLOTS.get(code as usize).copied()
    }
}

/// The Trade JSON of a trade: `pieces[0] slot[0] pieces[1] ... slot[n-1] pieces[n]`.
pub struct Template {
    pub pieces: Vec<Vec<u8>>,
    pub slots: Vec<Slot>,
}

impl Template {
    /// The template of `pieces` and slot codes; an error says what is wrong with them.
    pub fn new(pieces: Vec<Vec<u8>>, codes: &[u8]) -> Result<Template, String> {
        let slots = codes
            .iter()
            .map(|&code| Slot::from_code(code).ok_or_else(|| format!("no slot numbered {code}")))
            .collect::<Result<Vec<Slot>, String>>()?;
        if pieces.len() != slots.len() + 1 {
            return Err("a template has one piece more than it has slots".into());
        }
        Ok(Template { pieces, slots })
    }

    /// Whether the template uses `slot`.
    pub fn uses(&self, slot: Slot) -> bool {
        self.slots.contains(&slot)
    }

    /// Appends the JSON of `trade` to `out`.
    pub fn render(&self, trade: &Trade<'_>, out: &mut Vec<u8>) {
        let mut digits = [0u8; 20];
        for (piece, slot) in self.pieces.iter().zip(&self.slots) {
            out.extend_from_slice(piece);
            match slot {
                Slot::AggId => out.extend_from_slice(itoa(trade.agg_id, &mut digits)),
                Slot::Price => out.extend_from_slice(trade.price),
                Slot::Qty => out.extend_from_slice(trade.qty),
                Slot::FirstId => out.extend_from_slice(itoa(trade.first_id, &mut digits)),
                Slot::LastId => out.extend_from_slice(itoa(trade.last_id, &mut digits)),
                Slot::TradeTime => out.extend_from_slice(itoa(trade.trade_time, &mut digits)),
                Slot::BuyerIsMaker => out.extend_from_slice(if trade.buyer_is_maker {
                    b"true"
                } else {
                    b"false"
                }),
                Slot::EventTime => out.extend_from_slice(itoa(trade.event_time, &mut digits)),
                Slot::ReceiveTime => out.extend_from_slice(itoa(trade.receive_time, &mut digits)),
                Slot::Symbol => out.extend_from_slice(trade.symbol),
            }
        }
        out.extend_from_slice(self.pieces.last().expect("a template ends in a piece"));
    }
}

/// An aggregate trade whose texts have passed the contract's checks.
pub struct Trade<'a> {
    pub agg_id: i64,
    pub price: &'a [u8],
    pub qty: &'a [u8],
    pub first_id: i64,
    pub last_id: i64,
    pub trade_time: i64,
    pub buyer_is_maker: bool,
    pub event_time: i64,
    pub receive_time: i64,
    /// Empty where the template holds the symbol as a constant (bulk files).
    pub symbol: &'a [u8],
}

impl Trade<'_> {
    /// The trade, if its first id is not above its last (the contract's one cross-field check).
    pub fn checked(self) -> Option<Self> {
        (self.first_id <= self.last_id).then_some(self)
    }
}

/// A non-negative integer without leading zeros, of at most 18 digits (so that it fits; longer
/// ones are left to the Python path).
pub fn integer(text: &[u8]) -> Option<i64> {
    if text.is_empty() || text.len() > 18 || (text[0] == b'0' && text.len() > 1) {
        return None;
    }
    text.iter().try_fold(0i64, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0'))
    })
}

/// A decimal text as the contract takes it: `[0-9]+(\.[0-9]+)?`.
pub fn decimal(text: &[u8]) -> Option<&[u8]> {
    let (whole, fraction) = match text.iter().position(|&b| b == b'.') {
        Some(dot) => (&text[..dot], Some(&text[dot + 1..])),
        None => (text, None),
    };
    let digits = |part: &[u8]| !part.is_empty() && part.iter().all(u8::is_ascii_digit);
    (digits(whole) && fraction.is_none_or(digits)).then_some(text)
}

/// A symbol as the contract takes it: `[A-Z0-9]{2,30}`.
pub fn symbol(text: &[u8]) -> Option<&[u8]> {
    let valid = (2..=30).contains(&text.len())
        && text
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    valid.then_some(text)
}

/// A timestamp in milliseconds, from one in milliseconds or microseconds (bulk files).
pub fn millis(timestamp: i64) -> i64 {
    if timestamp > MICROSECONDS_ABOVE {
        timestamp / 1000
    } else {
        timestamp
    }
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

    #[test]
    fn texts_are_checked_as_the_contract_checks_them() {
        assert_eq!(integer(b"0"), Some(0));
        assert_eq!(
            integer(b"123456789012345678"),
            Some(123_456_789_012_345_678)
        );
        for bad in [&b""[..], b"01", b"-1", b"1.0", b"1234567890123456789"] {
            assert_eq!(integer(bad), None);
        }
        for good in [&b"0"[..], b"007.50", b"1.0"] {
            assert!(decimal(good).is_some());
        }
        for bad in [&b""[..], b"1.", b".5", b"1e5", b"1.2.3", b"-1"] {
            assert!(decimal(bad).is_none());
        }
        assert!(symbol(b"BTCUSDT").is_some() && symbol(b"1INCHUSDT").is_some());
        assert!(symbol(b"B").is_none() && symbol(b"btcusdt").is_none());
    }

    #[test]
    fn a_template_needs_one_piece_more_than_slots() {
        assert!(Template::new(vec![b"{".to_vec(), b"}".to_vec()], &[0]).is_ok());
        assert!(Template::new(vec![b"{".to_vec()], &[0]).is_err());
        assert!(Template::new(vec![b"{".to_vec(), b"}".to_vec()], &[10]).is_err());
    }
}
