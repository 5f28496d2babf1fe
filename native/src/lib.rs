//! StreamForge's optional compiled hot paths, called from Python (`streamforge_native`).
//!
//! Each function here has a Python twin in the `streamforge` package that is its reference:
//! the tests hold the two to the same output, and the Python path runs wherever this module is
//! not installed.

mod agg_trades;
mod record_batch;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyByteArray;

use agg_trades::{frame_block, Slot, Template};
use record_batch::BatchWriter;

/// Batches of records (uncompressed, with their record counts), how many records, and the last
/// record's trade id and time.
type Framed<'py> = (Vec<(Bound<'py, PyByteArray>, usize)>, usize, i64, i64);

/// The aggregate trades of a bulk CSV block with ids above `after_id`, as Trade JSON values
/// (`pieces` and `slots`: the template) framed into uncompressed Kafka record batches keyed
/// `key` and stamped `timestamp_ms`; None if the block is not entirely in Binance's form.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn frame_agg_trades<'py>(
    py: Python<'py>,
    block: &[u8],
    pieces: Vec<Vec<u8>>,
    slots: Vec<u8>,
    key: Option<&[u8]>,
    timestamp_ms: i64,
    max_batch_bytes: usize,
    after_id: i64,
) -> PyResult<Option<Framed<'py>>> {
    let slots = slots
        .into_iter()
        .map(|code| {
            Slot::from_code(code).ok_or_else(|| PyValueError::new_err(format!("no slot {code}")))
        })
        .collect::<PyResult<Vec<Slot>>>()?;
    if pieces.len() != slots.len() + 1 {
        return Err(PyValueError::new_err(
            "a template has one piece more than it has slots",
        ));
    }
    let template = Template { pieces, slots };
    // The work needs no Python objects: other threads run meanwhile.
    let framed = py.detach(|| {
        let mut writer = BatchWriter::new(key, timestamp_ms, max_batch_bytes);
        frame_block(block, &template, after_id, &mut writer).map(|taken| (writer.finish(), taken))
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

#[pymodule]
fn streamforge_native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(frame_agg_trades, module)?)?;
    Ok(())
}
