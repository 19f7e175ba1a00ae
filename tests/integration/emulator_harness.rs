//! The harness itself: when the emulator cannot start, tests fail with a message that
//! says how to fix it (they never skip silently).

use crate::common::start_emulator;

#[test]
fn an_emulator_that_cannot_start_fails_with_a_fix() {
    let err = start_emulator(&["/nonexistent/python3"]).err().expect("must fail");
    assert!(err.contains("could not start"), "{err}");
    assert!(err.contains("how to fix: run `scripts/emulator --port 5000`"), "{err}");
}

#[test]
fn an_emulator_that_exits_early_fails_with_its_output() {
    let err =
        start_emulator(&["bash", "-c", "echo 'ModuleNotFoundError: moto' >&2; exit 3", "--"]).err().expect("must fail");
    assert!(err.contains("ModuleNotFoundError: moto"), "{err}");
    assert!(err.contains("how to fix"), "{err}");
}
