//! The two schedules on a mock [`Executor`]: the order of processes, the
//! looks, the stopping rule, the budgets and the faults, without Python
//! and without real timing.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::blocks::{Counted, Pilot};
use super::executor::PairedExecutor;
use super::paired;
use super::plan::Plan;
use super::request::Isolation;
use crate::domain::Domain;
use crate::measure::executor::{Executor, Single};
use crate::measure::progress::Event;
use crate::measure::rng::SplitMix64;
use crate::measure::{schedule as unpaired, Arm, Culprit, RunError, Stop};
use crate::process::{Exit, Limits};
use crate::python::runner::Runner;
use crate::verdict::{self, Verdict};

/// A made-up machine: variant A takes `ratio` times B's 1 ms per call,
/// every reading off by a deterministic jitter of up to `jitter`.
struct Mock {
    ratio: f64,
    jitter: f64,
    rng: SplitMix64,
    /// Every process asked for, in order: "warm a", "single b", "pilot", "paired 12".
    log: Vec<String>,
    /// The process (counting from 1) that fails, as a crash of variant `ab`.
    fail_at: Option<usize>,
}

impl Mock {
    fn new(ratio: f64, jitter: f64) -> Self {
        Mock {
            ratio,
            jitter,
            rng: SplitMix64::new(7),
            log: Vec::new(),
            fail_at: None,
        }
    }

    fn noise(&mut self) -> f64 {
        1.0 + self.jitter * (2.0 * self.rng.next_f64() - 1.0)
    }

    fn start(&mut self, what: String) -> Result<(), RunError> {
        self.log.push(what);
        if self.fail_at == Some(self.log.len()) {
            return Err(RunError::VariantFailed {
                variant: Culprit::Both,
                exit: Exit::Code(1),
                command: "mock".into(),
                stderr_tail: "MemoryError".into(),
            });
        }
        Ok(())
    }

    /// Rounds of one process as its report would give them.
    fn rounds(&mut self, n: usize, number: u64) -> serde_json::Value {
        let b: Vec<f64> = (0..n).map(|_| 1e-3 * self.noise()).collect();
        let a: Vec<f64> = (0..n).map(|_| self.ratio * 1e-3 * self.noise()).collect();
        let order: String = (0..n)
            .map(|i| if i % 2 == 0 { "AB" } else { "BA" })
            .collect();
        serde_json::json!({"a": a, "b": b, "order": order, "number": {"a": number, "b": number}})
    }
}

impl Executor for Mock {
    fn started(&self) -> usize {
        self.log.len()
    }

    async fn warm_up(&mut self, variant: Option<Arm>) -> Result<(), RunError> {
        self.start(format!(
            "warm {}",
            variant.map_or("both".into(), |v| v.to_string())
        ))
    }

    async fn single(&mut self, variant: Arm) -> Result<Single, RunError> {
        self.start(format!("single {variant}"))?;
        let value = match variant {
            Arm::A => self.ratio * 1e-3,
            Arm::B => 1e-3,
        } * self.noise();
        Ok(Single {
            value,
            process_peak: None,
        })
    }
}

impl PairedExecutor for Mock {
    async fn pilot(&mut self, _seed: u64) -> Result<Pilot, RunError> {
        self.start("pilot".into())?;
        let mut short = self.rounds(10, 5);
        short["block_s"] = 0.005.into();
        let mut long = self.rounds(5, 20);
        long["block_s"] = 0.02.into();
        let aa: Vec<f64> = (0..10).map(|_| 1e-3 * self.noise()).collect();
        let mut pilot: Pilot = serde_json::from_value(serde_json::json!({
            "lengths": [short, long], "aa": [aa[..5], aa[5..]], "aa_variant": "b",
            "setup_s": 0.01, "elapsed_s": 0.3,
        }))
        .expect("a valid pilot report");
        pilot.wall_s = 0.35;
        Ok(pilot)
    }

    async fn paired(
        &mut self,
        rounds: usize,
        numbers: (u64, u64),
        _block_s: f64,
        _seed: u64,
    ) -> Result<Counted, RunError> {
        self.start(format!("paired {rounds}"))?;
        let mut report = self.rounds(rounds, numbers.0);
        report["timed_s"] = 0.1.into();
        let mut counted: Counted = serde_json::from_value(report).expect("a valid report");
        counted.wall_s = 0.2;
        Ok(counted)
    }
}

fn plan(domain: Domain, isolation: Isolation, max_pairs: usize) -> Plan {
    let first = match isolation {
        Isolation::Paired => 6,
        Isolation::Process => 5,
    };
    Plan {
        script: "mock.py".into(),
        domain,
        cwd: ".".into(),
        runner: Runner {
            argv: vec!["python3".into()],
            chosen_because: "mock".into(),
            tried: Vec::new(),
        },
        env: Vec::new(),
        threshold: domain.default_threshold(),
        isolation,
        isolation_why: "mock".into(),
        looks: verdict::planned_looks(first, max_pairs),
        min_pairs: None,
        max_pairs,
        limits: Limits::default(),
        show_output: false,
        revision: None,
        inputs: None,
        candidates: None,
        generated: true,
        equivalence: Default::default(),
    }
}

/// Runs a schedule on `mock`, with `spent` of a 300 s budget already gone;
/// returns what it said.
macro_rules! run {
    ($schedule:ident, $mock:expr, $plan:expr, $spent:expr) => {{
        let events = Mutex::new(Vec::new());
        let say = |started: usize, pairs: usize, e: Event| {
            events.lock().unwrap().push((started, pairs, e))
        };
        let started = Instant::now() - Duration::from_secs_f64($spent);
        let out = $schedule::run(
            $mock,
            $plan,
            &mut SplitMix64::new(1),
            started,
            Duration::from_secs(300),
            &say,
        )
        .await;
        (out, events.into_inner().unwrap())
    }};
}

#[tokio::test]
async fn paired_clear_gain_stops_at_the_first_look_after_the_pilot() {
    let mut mock = Mock::new(2.0, 0.02);
    let plan = plan(Domain::Cpu, Isolation::Paired, 30);
    let (out, events) = run!(paired, &mut mock, &plan, 0.0);
    let out = out.unwrap();
    assert_eq!(out.analysis.verdict, Verdict::AboveThreshold);
    assert_eq!(out.stopped_because, Stop::Verdict);
    assert_eq!((out.stopped_at_look, out.processes.len()), (1, 6));
    assert_eq!(mock.log[0], "pilot");
    assert!(mock.log[1..].iter().all(|p| p.starts_with("paired ")));
    let rounds: usize = mock.log[1][7..].parse().unwrap();
    assert!((5..=40).contains(&rounds), "{rounds}");
    // The pilot's design, then one event per counted process, numbered.
    assert!(matches!(
        events[0].2,
        Event::PilotDone { first_look: 6, .. }
    ));
    for (i, (started, pairs, e)) in events[1..].iter().enumerate() {
        assert_eq!((*started, *pairs), (i + 2, i + 1));
        assert!(matches!(e, Event::PairedProcess { process, .. } if *process == i + 1));
    }
    let s = out.analysis.speedup.unwrap().estimate;
    assert!((s - 2.0).abs() < 0.02, "{s}");
}

#[tokio::test]
async fn paired_null_change_is_below_threshold() {
    let mut mock = Mock::new(1.0, 0.02);
    let plan = plan(Domain::Cpu, Isolation::Paired, 30);
    let (out, _) = run!(paired, &mut mock, &plan, 0.0);
    assert_eq!(out.unwrap().analysis.verdict, Verdict::BelowThreshold);
}

#[tokio::test]
async fn paired_gain_at_the_threshold_spends_the_pair_budget() {
    // Exactly 20 % with 30 % jitter: no look can separate it from the threshold.
    let mut mock = Mock::new(1.2, 0.3);
    let plan = plan(Domain::Cpu, Isolation::Paired, 12);
    let (out, _) = run!(paired, &mut mock, &plan, 0.0);
    let out = out.unwrap();
    assert_eq!(out.stopped_because, Stop::MaxPairs);
    assert_eq!(out.processes.len(), 12);
    assert_eq!(mock.log.len(), 13);
    // Only the last look decided, with whatever it found.
    assert_eq!(out.stopped_at_look, out.schedule.looks().len());
}

#[tokio::test]
async fn paired_spent_budget_is_an_error_that_names_max_seconds() {
    let mut mock = Mock::new(2.0, 0.02);
    let plan = plan(Domain::Cpu, Isolation::Paired, 30);
    let (out, _) = run!(paired, &mut mock, &plan, 299.9);
    let err = out.err().expect("no counted process fits").to_string();
    assert!(err.contains("max_seconds"), "{err}");
    assert_eq!(mock.log, ["pilot"]);
}

#[tokio::test]
async fn a_failing_process_ends_the_run_and_no_other_starts() {
    let mut mock = Mock::new(2.0, 0.02);
    mock.fail_at = Some(3);
    let plan = plan(Domain::Cpu, Isolation::Paired, 30);
    let (out, _) = run!(paired, &mut mock, &plan, 0.0);
    assert!(matches!(out, Err(RunError::VariantFailed { .. })));
    assert_eq!(mock.log.len(), 3);
}

#[tokio::test]
async fn process_isolation_warms_both_then_runs_pairs_in_seeded_random_order() {
    let mut mock = Mock::new(2.0, 0.02);
    let plan = plan(Domain::Cpu, Isolation::Process, 30);
    let (out, events) = run!(unpaired, &mut mock, &plan.schedule(), 0.0);
    let out = out.unwrap();
    let mut warm = mock.log[..2].to_vec();
    warm.sort();
    assert_eq!(warm, ["warm a", "warm b"]);
    assert_eq!(out.analysis.verdict, Verdict::AboveThreshold);
    assert_eq!((out.a.len(), out.b.len(), out.stopped_at_look), (5, 5, 1));
    // Each pair is its order: the processes follow it.
    for (pair, order) in out.order.iter().enumerate() {
        let first = &mock.log[2 + 2 * pair];
        let expect = if order == "AB" {
            "single a"
        } else {
            "single b"
        };
        assert_eq!(first, expect);
    }
    assert!(out.order.iter().any(|o| o == "AB") && out.order.iter().any(|o| o == "BA"));
    assert!(matches!(events[0].2, Event::WarmedUp { variant: Some(_) }));
    assert_eq!(events.len(), 2 + 10);
}

#[tokio::test]
async fn memory_warms_up_once_with_both_variants() {
    let mut mock = Mock::new(2.0, 0.0);
    let plan = plan(Domain::Memory, Isolation::Process, 10);
    let (out, events) = run!(unpaired, &mut mock, &plan.schedule(), 0.0);
    out.unwrap();
    assert_eq!(mock.log[0], "warm both");
    assert!(mock.log[1..].iter().all(|p| p.starts_with("single ")));
    assert!(matches!(events[0].2, Event::WarmedUp { variant: None }));
}
