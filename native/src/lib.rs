//! StreamForge's optional compiled hot paths, called from Python (`streamforge_native`).
//!
//! Each function here has a Python twin in the `streamforge` package that is its reference:
//! the tests hold the two to the same output, and the Python path runs wherever this module is
//! not installed. Both refuse (return None for) anything not in the exact form Binance writes,
//! which the Python path then reads and, if it is bad, names what is wrong.

mod bulk_trades;
mod record_batch;
mod stream_trades;
mod trade;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};

use bulk_trades::frame_block;
use record_batch::BatchWriter;
use trade::{Slot, Template};

/// Batches of records (uncompressed, with their record counts), how many records, and the last
/// record's trade id and time.
type Framed<'py> = (Vec<(Bound<'py, PyByteArray>, usize)>, usize, i64, i64);
/// A trade's symbol, id, event time and Trade JSON.
type EncodedTrade<'py> = (Bound<'py, PyString>, i64, i64, Bound<'py, PyBytes>);

/// A Trade JSON template: constant `pieces` and, between each two, the number of the slot that
/// fills the gap (as the Python side's `TEMPLATE_SLOTS` numbers them). Made once, used for
/// every block or frame.
#[pyclass(frozen)]
struct TradeTemplate(Template);

#[pymethods]
impl TradeTemplate {
    #[new]
    fn new(pieces: Vec<Vec<u8>>, slots: Vec<u8>) -> PyResult<Self> {
        Template::new(pieces, &slots)
            .map(TradeTemplate)
            .map_err(PyValueError::new_err)
    }
}

/// The aggregate trades of a bulk CSV block with ids above `after_id`, as Trade JSON values
/// (rendered with `template`, whose symbol and receive time are constants) framed
/// into uncompressed Kafka record batches keyed `key` and stamped `timestamp_ms`; None if the
/// block is not entirely in Binance's form. The GIL is released while it works.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn frame_agg_trades<'py>(
    py: Python<'py>,
    block: &[u8],
    template: &Bound<'py, TradeTemplate>,
    key: Option<&[u8]>,
    timestamp_ms: i64,
    max_batch_bytes: usize,
    after_id: i64,
) -> PyResult<Option<Framed<'py>>> {
    let template = &template.get().0;
    if template.uses(Slot::Symbol) || template.uses(Slot::ReceiveTime) {
        return Err(PyValueError::new_err(
            "a bulk template holds its symbol and receive time",
        ));
    }
    let framed = py.detach(|| {
        let mut writer = BatchWriter::new(key, timestamp_ms, max_batch_bytes);
        frame_block(block, template, after_id, &mut writer).map(|taken| (writer.finish(), taken))
    });
    let Some((batches, taken)) = framed else {
        return Ok(None);
    };
    let batches = batches
        .into_iter()
        .map(|(batch, records)| (PyByteArray::new(py, &batch), records))
        .collect();
    Ok(Some((batches, taken.count, taken.last_id, taken.last_time)))
}

/// The trade of a combined-stream aggTrade frame received at `receive_time`, rendered with
/// `template`; None if the frame is not in Binance's form.
#[pyfunction]
fn decode_agg_trade_frame<'py>(
    py: Python<'py>,
    frame: &[u8],
    template: &Bound<'py, TradeTemplate>,
    receive_time: i64,
) -> PyResult<Option<EncodedTrade<'py>>> {
    if receive_time < 0 {
        return Err(PyValueError::new_err(
            "a receive time is epoch milliseconds, not negative",
        ));
    }
    let Some(trade) = stream_trades::read_frame(frame, receive_time) else {
        return Ok(None);
    };
    let mut value = Vec::with_capacity(frame.len() + 128);
    template.get().0.render(&trade, &mut value);
    // The symbol passed the contract's check, so it is ASCII.
    let symbol = std::str::from_utf8(trade.symbol).expect("a checked symbol is ASCII");
    Ok(Some((
        PyString::new(py, symbol),
        trade.agg_id,
        trade.event_time,
        PyBytes::new(py, &value),
    )))
}

#[pymodule]
fn streamforge_native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<TradeTemplate>()?;
    module.add_function(wrap_pyfunction!(frame_agg_trades, module)?)?;
    module.add_function(wrap_pyfunction!(decode_agg_trade_frame, module)?)?;
    Ok(())
}
