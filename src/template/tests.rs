//! Unit tests and simulations of the parent module.

use super::*;

fn spec(domain: Domain) -> ScriptSpec {
    ScriptSpec {
        name: "sum_loop".into(),
        domain: Some(domain),
        setup: "data = list(range(1000))".into(),
        code_a: "total = 0\nfor x in data:\n    total += x\nreturn total".into(),
        code_b: "return sum(data)".into(),
        modules: vec!["json".into()],
        ..Default::default()
    }
}

#[test]
fn names_are_checked() {
    for bad in ["", "../evil", "a/b", "a.b", "a b", "x\0", &"x".repeat(65)] {
        assert!(validate_name(bad).is_err(), "{bad:?} accepted");
    }
    validate_name(&"x".repeat(64)).unwrap();
    validate_name("Sum_2").unwrap();
}

#[test]
fn structure_needs_modules() {
    let mut s = spec(Domain::Structure);
    s.modules.clear();
    assert_eq!(s.validate(), Err(SpecError::MissingModules));
    s.modules = vec!["pkg..x".into()];
    assert!(matches!(s.validate(), Err(SpecError::InvalidModule(_))));
}

#[test]
fn out_of_range_counts_are_refused() {
    let mut s = spec(Domain::Cpu);
    s.repeat = Some(0);
    assert!(s
        .validate()
        .unwrap_err()
        .to_string()
        .contains("`repeat` = 0"));
}

#[test]
fn script_follows_the_reference_pattern() {
    let s = spec(Domain::Cpu);
    let r = render(&s, Domain::Cpu);
    assert!(r
        .text
        .starts_with("# abbench-script: domain=cpu modes=a,b,ab\n"));
    assert!(r.text.contains("def bench_a():\n    \"\"\"Current approach.\"\"\"\n    total = 0\n    for x in data:\n        total += x\n"));
    assert!(r
        .text
        .contains("def bench_b():\n    \"\"\"Optimized approach.\"\"\"\n    return sum(data)\n"));
    assert!(r
        .text
        .contains("{\"a\": bench_a, \"b\": bench_b}[sys.argv[1]]"));
    assert!(r.text.contains("_NUMBER = None"));
    assert_eq!(
        read_marker(&r.text),
        Some(Marker {
            domain: Domain::Cpu,
            paired: true
        })
    );
    // A script of an older abbench: a domain, no modes.
    let old = read_marker("# abbench-script: domain=async\n").unwrap();
    assert_eq!((old.domain, old.paired), (Domain::Async, false));
    let memory = render(&spec(Domain::Memory), Domain::Memory);
    assert!(!read_marker(&memory.text).unwrap().paired);
}

#[test]
fn spans_point_at_the_parts() {
    let s = spec(Domain::Async);
    let r = render(&s, Domain::Async);
    let lines: Vec<&str> = r.text.lines().collect();
    for span in &r.spans {
        let first = lines[span.first_line - 1].trim();
        let expected = match span.part {
            Part::Setup => "data = list(range(1000))",
            Part::CodeA => "total = 0",
            Part::CodeB => "return sum(data)",
            Part::Call => unreachable!("the free form has no call"),
            Part::Candidate(_) => unreachable!("no candidates here"),
        };
        assert_eq!(first, expected, "{:?}", span.part);
    }
    assert!(r.spans[1]
        .standalone
        .starts_with("async def bench_a():\n    total = 0"));
}

#[test]
fn dedent_keeps_relative_indentation() {
    assert_eq!(
        dedent("    a = 1\n    if a:\n        b = 2\n\n"),
        "a = 1\nif a:\n    b = 2"
    );
    assert_eq!(dedent("x\r\ny"), "x\ny");
}
