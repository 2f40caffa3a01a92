//! The GPU classes every GPUFuel market of this SDK creates, by id and name: the embedded
//! network's, the CLI's `--class`, the bindings' `gpu_class` arguments, and the class a GPU
//! executor registers with.

/// The class ids and names, in id order; a market's `GpuClass` accounts carry the ids.
pub const GPU_CLASSES: &[(u8, &str)] =
    &[(0, "cpu"), (1, "rtx-4090"), (2, "a100"), (3, "h100"), (4, "h200"), (5, "other")];

/// A GPU class that is not in [`GPU_CLASSES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown GPU class {given}; known: {}", known())]
pub struct UnknownClass {
    /// What was given, quoted when it is a name.
    pub given: String,
}

fn known() -> String {
    GPU_CLASSES.iter().map(|(id, n)| format!("{id} ({n})")).collect::<Vec<_>>().join(", ")
}

/// A class id from its id (`"3"`) or name (`"h100"`, any case).
pub fn class_id(given: &str) -> Result<u8, UnknownClass> {
    let by_id = given.parse::<u8>().ok().filter(|id| GPU_CLASSES.iter().any(|(i, _)| i == id));
    let by_name = || GPU_CLASSES.iter().find(|(_, n)| n.eq_ignore_ascii_case(given)).map(|(id, _)| *id);
    let quoted = || if given.parse::<i64>().is_ok() { given.to_string() } else { format!("'{given}'") };
    by_id.or_else(by_name).ok_or_else(|| UnknownClass { given: quoted() })
}

/// A class name by id (`"unknown"` for an id outside [`GPU_CLASSES`]).
pub fn class_name(id: u8) -> &'static str {
    GPU_CLASSES.iter().find(|(i, _)| *i == id).map_or("unknown", |(_, n)| n)
}

/// The class of a GPU from its device name (`"NVIDIA H100 80GB HBM3"` is `h100`); `other` when
/// no class matches.
pub fn class_of_device(name: &str) -> u8 {
    let name = name.to_ascii_lowercase();
    let table = [("4090", 1), ("a100", 2), ("h100", 3), ("h200", 4)];
    table.iter().find(|(k, _)| name.contains(k)).map_or(5, |&(_, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpu_classes_are_parsed_by_id_or_name_and_unknown_ones_refused() {
        assert_eq!(class_id("3"), Ok(3));
        assert_eq!(class_id("h100"), Ok(3));
        assert_eq!(class_id("A100"), Ok(2));
        assert_eq!(class_id("cpu"), Ok(0));
        assert_eq!(class_id("300"), Err(UnknownClass { given: "300".into() }));
        assert_eq!(class_id("-1"), Err(UnknownClass { given: "-1".into() }));
        let e = class_id("tpu").unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown GPU class 'tpu'; known: 0 (cpu), 1 (rtx-4090), 2 (a100), 3 (h100), 4 (h200), 5 (other)"
        );
    }
}
