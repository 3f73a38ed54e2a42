//! Native half of `k6/execution`: views of the VU, scenario and instance, `test.abort()`,
//! `test.fail()` and the per-VU tags.

use std::rc::Rc;

use rquickjs::prelude::Opt;
use rquickjs::{Array, Ctx, Object, Value};

use super::natives::Natives;
use crate::js::convert::{tag_value, throw};
use crate::js::state::{Phase, VuState};

fn not_in_init(ctx: &Ctx<'_>, state: &VuState, what: &str) -> rquickjs::Result<()> {
    if state.phase.get() == Phase::Init {
        return Err(throw(
            ctx,
            &format!("exec.{what} can't be used in the init context"),
        ));
    }
    Ok(())
}

pub fn install<'js>(
    ctx: &Ctx<'js>,
    native: &Object<'js>,
    state: &Rc<VuState>,
) -> rquickjs::Result<()> {
    let n = Natives::new(ctx, native, state);
    n.with_state("execVu", |st| {
        move |ctx: Ctx<'js>| {
            not_in_init(&ctx, &st, "vu")?;
            let o = Object::new(ctx.clone())?;
            o.set("idInInstance", st.ids.id_in_instance as f64)?;
            o.set("idInTest", st.ids.id_in_test as f64)?;
            o.set("iterationInInstance", st.iter.get().max(0) as f64)?;
            let scenario = st.scenario.borrow();
            let in_scenario = scenario
                .as_ref()
                .and_then(|s| st.scenario_iterations.borrow().get(&s.name).copied())
                .unwrap_or(1)
                .saturating_sub(1);
            o.set("iterationInScenario", in_scenario as f64)?;
            Ok::<_, rquickjs::Error>(o)
        }
    })?;
    n.with_state("execScenario", |st| {
        move |ctx: Ctx<'js>| {
            not_in_init(&ctx, &st, "scenario")?;
            let o = Object::new(ctx.clone())?;
            let scenario = st.scenario.borrow();
            if let Some(s) = scenario.as_ref() {
                o.set("name", s.name.as_str())?;
                o.set("executor", s.executor.as_str())?;
                let start = s
                    .start_time
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() as f64)
                    .unwrap_or(0.0);
                o.set("startTime", start)?;
                o.set("iterationInInstance", st.iteration_in_instance.get() as f64)?;
                o.set("iterationInTest", st.iteration_in_test.get() as f64)?;
                let progress = st
                    .shared
                    .execution
                    .scenario_progress(&s.name)
                    .unwrap_or(0.0);
                o.set("progress", progress)?;
            }
            Ok::<_, rquickjs::Error>(o)
        }
    })?;
    n.with_state("execInstance", |st| {
        move |ctx: Ctx<'js>| {
            not_in_init(&ctx, &st, "instance")?;
            let c = &st.shared.execution;
            let o = Object::new(ctx.clone())?;
            let elapsed = c.current_test_run_duration().as_secs_f64() * 1000.0;
            o.set("currentTestRunDuration", elapsed)?;
            o.set("iterationsCompleted", c.iterations_completed() as f64)?;
            o.set("iterationsInterrupted", c.iterations_interrupted() as f64)?;
            o.set("vusActive", c.vus_active() as f64)?;
            o.set("vusInitialized", c.vus_initialized() as f64)?;
            Ok::<_, rquickjs::Error>(o)
        }
    })?;
    n.with_state("execOptions", |st| {
        move |ctx: Ctx<'js>| {
            not_in_init(&ctx, &st, "test.options")?;
            Ok::<_, rquickjs::Error>(
                st.shared
                    .options_json
                    .read()
                    .map(|o| o.clone().unwrap_or_else(|| "{}".to_string()))
                    .unwrap_or_else(|_| "{}".to_string()),
            )
        }
    })?;
    n.with_state("abort", |st| {
        move |ctx: Ctx<'js>, msg: Opt<String>| {
            let msg = msg.0.unwrap_or_default();
            let text = if msg.is_empty() {
                "test aborted".to_string()
            } else {
                msg
            };
            *st.aborted.borrow_mut() = Some(text.clone());
            st.interrupted.set(true);
            Err::<(), _>(throw(&ctx, &format!("test aborted: {text}")))
        }
    })?;
    n.with_state("testFail", |st| {
        move |msg: Opt<String>| {
            st.shared.mark_failed(msg.0.unwrap_or_default());
        }
    })?;
    n.with_state("vuTagGet", |st| move |k: String| current_tag(&st, &k))?;
    n.with_state("vuTagSet", |st| {
        move |ctx: Ctx<'js>, k: String, v: Value<'js>| {
            if !(v.is_string() || v.is_number() || v.is_bool()) {
                return Err(rquickjs::Exception::throw_type(
                    &ctx,
                    &format!(
                        "invalid value for metric tag '{k}': only String, Boolean and \
                             Number types are accepted as a metric tag values"
                    ),
                ));
            }
            let v = tag_value(&v)?;
            st.vu_tags.borrow_mut().insert(k, v);
            st.invalidate_tags();
            Ok(())
        }
    })?;
    n.with_state("vuTagDelete", |st| {
        move |k: String| {
            st.vu_tags.borrow_mut().remove(&k);
            st.invalidate_tags();
        }
    })?;
    n.with_state("vuTagKeys", |st| {
        move |ctx: Ctx<'js>| {
            let arr = Array::new(ctx.clone())?;
            let tags = st.tags();
            let mut keys: Vec<&str> = tags
                .iter()
                .map(|(k, _)| k)
                .filter(|k| *k != "group")
                .collect();
            keys.push("group");
            for (i, k) in keys.into_iter().enumerate() {
                arr.set(i, k)?;
            }
            Ok::<_, rquickjs::Error>(arr)
        }
    })?;
    install_metadata(ctx, native, state)
}

/// A tag of the VU's current context as `exec.vu.tags` shows it: every tag its samples carry
/// (test, scenario and VU tags, `scenario`), and `group` (empty at the root), as k6 does.
fn current_tag(state: &VuState, key: &str) -> Option<String> {
    if key == "group" {
        return Some(state.group.borrow().clone());
    }
    state.tags().get(key).map(str::to_string)
}

/// `exec.vu.metrics.metadata`: the VU's metadata, kept across accesses and iterations like its
/// tags; values must be strings, numbers or booleans, as in k6.
fn install_metadata<'js>(
    ctx: &Ctx<'js>,
    native: &Object<'js>,
    state: &Rc<VuState>,
) -> rquickjs::Result<()> {
    let n = Natives::new(ctx, native, state);
    n.with_state("vuMetaGet", |st| {
        move |k: String| st.vu_metadata.borrow().get(&k).cloned()
    })?;
    n.with_state("vuMetaSet", |st| {
        move |ctx: Ctx<'js>, k: String, v: Value<'js>| {
            if !(v.is_string() || v.is_number() || v.is_bool()) {
                return Err(rquickjs::Exception::throw_type(
                    &ctx,
                    &format!(
                        "invalid value for metric metadata '{k}': only String, Boolean and \
                             Number types are accepted as a metric metadata value"
                    ),
                ));
            }
            st.set_metadata(k, Some(tag_value(&v)?));
            Ok(())
        }
    })?;
    n.with_state("vuMetaDelete", |st| {
        move |k: String| {
            st.set_metadata(k, None);
        }
    })?;
    n.with_state("vuMetaKeys", |st| {
        move || st.vu_metadata.borrow().keys().cloned().collect::<Vec<_>>()
    })?;
    Ok(())
}
