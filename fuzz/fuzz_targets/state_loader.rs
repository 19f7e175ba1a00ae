//! Any bytes as a state file must load or be refused, never panic; whatever loads must
//! survive a write/read round trip unchanged.
#![no_main]

use cloudbridge::state::State;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(state) = State::from_json(data, "fuzz.json") {
        let again = State::from_json(&state.to_json(), "fuzz.json").expect("a written state loads again");
        assert_eq!(state, again);
    }
});
