//! Native half of `k6/metrics`: custom metric declaration (init context) and `add()`.

use std::rc::Rc;
use std::sync::Arc;

use rquickjs::prelude::Opt;
use rquickjs::{Ctx, Object, Value};

use super::natives::Natives;
use crate::js::convert::{throw, user_tag_pairs};
use crate::js::state::{Phase, VuState};
use crate::metrics::{MetricId, MetricType, ValueType};

pub fn install<'js>(
    ctx: &Ctx<'js>,
    native: &Object<'js>,
    state: &Rc<VuState>,
) -> rquickjs::Result<()> {
    let n = Natives::new(ctx, native, state);
    n.with_state("metricNew", |st| {
        move |ctx: Ctx<'js>, name: String, kind: String, is_time: bool| {
            if st.phase.get() != Phase::Init {
                return Err(throw(&ctx, "metrics must be declared in the init context"));
            }
            let kind = match kind.as_str() {
                "counter" => MetricType::Counter,
                "gauge" => MetricType::Gauge,
                "rate" => MetricType::Rate,
                _ => MetricType::Trend,
            };
            let contains = if is_time {
                ValueType::Time
            } else {
                ValueType::Default
            };
            st.shared
                .registry
                .register(&name, kind, contains)
                .map(|id| id.0)
                .map_err(|e| throw(&ctx, &e.to_string()))
        }
    })?;
    n.with_state("metricAdd", |st| {
        move |ctx: Ctx<'js>, id: u32, value: Value<'js>, tags: Opt<Value<'js>>| {
            if st.phase.get() == Phase::Init {
                return Err(throw(&ctx, "metrics can't be added to in the init context"));
            }
            let v = if let Some(b) = value.as_bool() {
                if b { 1.0 } else { 0.0 }
            } else {
                value.as_number().unwrap_or(f64::NAN)
            };
            if v.is_nan() {
                tracing::warn!("metric add: value is not a number, ignored");
                return Ok(false);
            }
            let base = st.tags();
            let tags = match tags.0.as_ref().and_then(Value::as_object) {
                Some(obj) => {
                    let mut set = (*base).clone();
                    for (k, v) in user_tag_pairs(obj)? {
                        set.insert(k, v);
                    }
                    Arc::new(set)
                }
                None => base,
            };
            st.emit(MetricId(id), v, tags);
            Ok(true)
        }
    })?;
    Ok(())
}
