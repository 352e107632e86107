//! `GET /api/v2/public/get_tradingview_chart_data`.

use super::catalog::{LookupError, Series};
use super::{Ctx, RpcError};
use crate::params::Query;

/// Most bars one call returns; a longer range gets its **first** (oldest)
/// 5,000 bars, so a client paging forward from the last tick + 1 misses
/// nothing.
pub(crate) const MAX_BARS: usize = 5000;

/// A required integer parameter.
pub(crate) fn required_int(q: &Query, name: &str) -> Result<i64, RpcError> {
    match q.int(name) {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(RpcError::missing(name)),
        Err(_) => Err(RpcError::format(name)),
    }
}

/// The bars overlapping `[start_timestamp, end_timestamp]` (the one
/// containing the start up to the one containing the end, the open bar
/// included), as parallel number arrays, ascending; `status` `no_data`
/// with empty arrays when there are none. All four parameters are
/// required (-32602 `must be present`); a malformed one is -32602 `wrong
/// format`; a well-formed unknown instrument is 13020 `not_found`.
pub(crate) fn chart_data(ctx: &Ctx, q: &Query) -> Result<String, RpcError> {
    let name = q.text("instrument_name").ok_or_else(|| RpcError::missing("instrument_name"))?;
    let start = required_int(q, "start_timestamp")?;
    let end = required_int(q, "end_timestamp")?;
    let resolution = q.text("resolution").ok_or_else(|| RpcError::missing("resolution"))?;
    let series = Series::lookup(name, resolution).map_err(|e| match e {
        LookupError::InstrumentFormat => RpcError::format("instrument_name"),
        LookupError::Resolution => RpcError::format("resolution"),
        LookupError::Instrument => RpcError::not_found("instrument_name"),
    })?;
    let now = ctx.now;
    let bars = &series.bars;
    let first = bars.grid().floor(start.clamp(0, crate::data::calendar::MAX_TIME));
    let rows = bars.oldest(first, end, MAX_BARS, now);
    let wire: Vec<_> = rows.iter().map(|c| series.inst.wire(bars, c, now)).collect();
    let column = |f: &dyn Fn(&crate::data::instrument::WireBar) -> String| -> String {
        let cells: Vec<String> = wire.iter().map(f).collect();
        format!("[{}]", cells.join(","))
    };
    let status = if wire.is_empty() { "no_data" } else { "ok" };
    Ok(format!(
        r#"{{"status":"{status}","ticks":{},"open":{},"high":{},"low":{},"close":{},"volume":{},"cost":{}}}"#,
        column(&|w| w.open_time.to_string()),
        column(&|w| w.open.clone()),
        column(&|w| w.high.clone()),
        column(&|w| w.low.clone()),
        column(&|w| w.close.clone()),
        column(&|w| w.base.clone()),
        column(&|w| w.quote.clone()),
    ))
}
