//! The job queue: the running job (with what it runs: model, benchmark, settings — not the Run page's
//! current choices), its live progress, and the jobs waiting after it, each with Cancel.

use crate::app::Ctx;
use crate::components::progress::ProgressBar;
use crate::jobs::JobStatus;
use yew::prelude::*;

#[component]
pub fn Queue() -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let s = &*ctx.state;
    if s.jobs.list.is_empty() {
        return html! {};
    }
    html! {
        <div class="queue" id="queue">
            { for s.jobs.list.iter().map(|j| {
                let id = j.id;
                let c = ctx.clone();
                let cancel = Callback::from(move |_: ()| c.cancel(id));
                let status = match &j.status {
                    JobStatus::Queued => "queued".to_string(),
                    JobStatus::Starting => "starting (loading its model)".to_string(),
                    JobStatus::Running => "running".to_string(),
                    JobStatus::Finished => {
                        let p = j.progress.clone().unwrap_or_default();
                        format!("finished ({} items, {} correct of {} answered)", p.done.max(j.done()), p.correct, p.answered)
                    }
                    JobStatus::Cancelled => "cancelled".to_string(),
                    JobStatus::Failed(e) => format!("failed: {e}"),
                };
                let word = match &j.status {
                    JobStatus::Queued => "queued",
                    JobStatus::Starting => "starting",
                    JobStatus::Running => "running",
                    JobStatus::Finished => "finished",
                    JobStatus::Cancelled => "cancelled",
                    JobStatus::Failed(_) => "failed",
                };
                html! {
                    <div class={classes!("job", if j.status.active() { "active" } else { "" })} id={format!("job-{id}")} data-status={word}>
                        <div class="job-line"><b>{ format!("Run {id}: ") }</b>{ j.label() }{ format!(" · {status}") }
                            if matches!(j.status, JobStatus::Queued | JobStatus::Starting) {
                                <button class="cancel-job" onclick={cancel.reform(|_: MouseEvent| ())}>{ "Cancel" }</button>
                            }
                        </div>
                        if j.status == JobStatus::Running {
                            <ProgressBar progress={j.progress.clone()} total={j.total} running={true} on_cancel={cancel} />
                        }
                    </div>
                }
            }) }
        </div>
    }
}
