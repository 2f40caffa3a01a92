//! What an ONNX model file declares, read without an engine: its operator domains, graph inputs
//! (name, type, shape) and outputs. The SDK checks a job against it before anything is stored or
//! escrowed, so a custom operator domain, a wrong input name, dtype or shape is refused up front.
//!
//! The file is a `ModelProto` in protobuf's wire format; only the fields named below are read
//! (field numbers from `onnx.proto`), everything else is skipped by wire type. Subgraphs (`If`,
//! `Loop`, `Scan` bodies) and model-local functions are walked for their domains.

use std::collections::BTreeSet;

use super::{
    TaskError,
    onnx::{ALLOWED_DOMAINS, OnnxStepsTask, OnnxTask},
    tensor::DType,
};

/// Deepest nesting of subgraphs read (a hostile file cannot exhaust the stack).
const MAX_DEPTH: usize = 32;

/// A graph input or output as the model declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueInfo {
    /// Its name.
    pub name: String,
    /// Element type (`None`: not a tensor, or a type jobs do not carry).
    pub dtype: Option<DType>,
    /// Dimensions; `None` for a symbolic or unknown one. Empty when the model gives no shape.
    pub shape: Vec<Option<u64>>,
}

/// The parts of a model a job is checked against.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModelInfo {
    /// Inputs the graph needs (those with an initializer are defaults and optional).
    pub inputs: Vec<ValueInfo>,
    /// Optional inputs: graph inputs that an initializer provides.
    pub optional: Vec<String>,
    /// The graph's outputs.
    pub outputs: Vec<ValueInfo>,
    /// Every operator domain used by a node, outside model-local functions' own domains.
    pub domains: BTreeSet<String>,
}

fn bad(what: &'static str) -> TaskError {
    TaskError::Invalid(what)
}

/// A protobuf message's fields, one at a time.
struct Fields<'a> {
    rest: &'a [u8],
}

enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

impl<'a> Fields<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    fn varint(&mut self) -> Result<u64, TaskError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.rest.split_first().ok_or(bad("the model file is truncated"))?;
            self.rest = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(bad("the model file has an overlong varint"))
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], TaskError> {
        let n = usize::try_from(n).map_err(|_| bad("the model file is truncated"))?;
        let (head, rest) = self.rest.split_at_checked(n).ok_or(bad("the model file is truncated"))?;
        self.rest = rest;
        Ok(head)
    }

    /// The next `(field number, value)`, or `None` at the end.
    fn next(&mut self) -> Result<Option<(u64, Value<'a>)>, TaskError> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Value::Fixed
            }
            2 => {
                let n = self.varint()?;
                Value::Bytes(self.take(n)?)
            }
            5 => {
                self.take(4)?;
                Value::Fixed
            }
            _ => return Err(bad("the model file is not an ONNX protobuf")),
        };
        Ok(Some((key >> 3, value)))
    }
}

fn string(bytes: &[u8]) -> Result<String, TaskError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| bad("the model file has a name that is not UTF-8"))
}

impl ModelInfo {
    /// Reads a model file. Errs on a file that is not a well-formed `ModelProto` with a graph.
    pub fn parse(model: &[u8]) -> Result<Self, TaskError> {
        let mut info = Self::default();
        let mut graph = None;
        let mut functions = vec![];
        let mut opsets = vec![];
        let mut fields = Fields::new(model);
        while let Some((field, value)) = fields.next()? {
            match (field, value) {
                (7, Value::Bytes(g)) => graph = Some(g),
                (8, Value::Bytes(opset)) => opsets.push(opset_domain(opset)?),
                (14, Value::Bytes(f)) => functions.push(f),
                _ => {}
            }
        }
        let graph = graph.ok_or(bad("the model file has no graph (is it an ONNX model?)"))?;
        // Model-local functions: ops named (domain, name) whose bodies are checked like the graph.
        let mut local = BTreeSet::new();
        for f in &functions {
            let mut fields = Fields::new(f);
            let (mut name, mut domain) = (String::new(), String::new());
            while let Some((field, value)) = fields.next()? {
                match (field, value) {
                    (1, Value::Bytes(b)) => name = string(b)?,
                    (10, Value::Bytes(b)) => domain = string(b)?,
                    _ => {}
                }
            }
            local.insert((domain, name));
        }
        let mut used = BTreeSet::new();
        info.read_graph(graph, &local, &mut used, 0, true)?;
        for f in &functions {
            let mut fields = Fields::new(f);
            while let Some((field, value)) = fields.next()? {
                if let (7, Value::Bytes(node)) = (field, value) {
                    read_node(node, &local, &mut used, 0)?;
                }
            }
        }
        let local_domains: BTreeSet<&String> = local.iter().map(|(d, _)| d).collect();
        info.domains = used.into_iter().chain(opsets).filter(|d| !local_domains.contains(d)).collect();
        Ok(info)
    }

    fn read_graph(
        &mut self,
        graph: &[u8],
        local: &BTreeSet<(String, String)>,
        used: &mut BTreeSet<String>,
        depth: usize,
        top: bool,
    ) -> Result<(), TaskError> {
        if depth > MAX_DEPTH {
            return Err(bad("the model nests subgraphs too deeply"));
        }
        let (mut inputs, mut initializers) = (vec![], BTreeSet::new());
        let mut fields = Fields::new(graph);
        while let Some((field, value)) = fields.next()? {
            let Value::Bytes(b) = value else { continue };
            match field {
                1 => read_node(b, local, used, depth)?,
                5 => {
                    initializers.insert(tensor_name(b, 8)?);
                }
                15 => {
                    // SparseTensorProto: values (1) is a TensorProto named like the initializer.
                    let mut f = Fields::new(b);
                    while let Some((field, value)) = f.next()? {
                        if let (1, Value::Bytes(t)) = (field, value) {
                            initializers.insert(tensor_name(t, 8)?);
                        }
                    }
                }
                11 if top => inputs.push(value_info(b)?),
                12 if top => self.outputs.push(value_info(b)?),
                _ => {}
            }
        }
        if top {
            for i in inputs {
                if initializers.contains(&i.name) {
                    self.optional.push(i.name);
                } else {
                    self.inputs.push(i);
                }
            }
        }
        Ok(())
    }

    /// Checks a batched task against the model: every operator domain allowed; every required
    /// input fed, with its dtype, rank and fixed dimensions (axis 0 of a batched input is a chunk's
    /// rows); no input the graph lacks; every output asked for declared.
    pub fn check(&self, task: &OnnxTask) -> Result<(), TaskError> {
        let fed = task.inputs.iter().map(|s| {
            // A fixed batch axis takes only chunks of its size, the last one included.
            let axis0 = s.batched.then(|| (task.chunk_rows, s.shape[0]));
            Fed { name: &s.name, dtype: s.dtype, shape: s.shape.clone(), chunks: axis0 }
        });
        self.check_fed(fed.collect(), task.outputs.iter().map(|o| o.name.as_str()))
    }

    /// Checks a step graph against the model: as [`ModelInfo::check`], each step being fed the
    /// state, the step index (an `int64` scalar), its slice of every per-step input and the
    /// constants, and returning every next state.
    pub fn check_steps(&self, task: &OnnxStepsTask) -> Result<(), TaskError> {
        let mut fed: Vec<Fed> = task
            .fed()
            .map(|s| {
                let shape = if s.batched { s.shape[1..].to_vec() } else { s.shape.clone() };
                Fed { name: &s.name, dtype: s.dtype, shape, chunks: None }
            })
            .collect();
        if let Some(name) = &task.step_input {
            fed.push(Fed { name, dtype: DType::I64, shape: vec![], chunks: None });
        }
        self.check_fed(fed, task.state.iter().map(|s| s.next.name.as_str()))
    }

    fn check_fed<'a>(&self, fed: Vec<Fed<'_>>, outputs: impl Iterator<Item = &'a str>) -> Result<(), TaskError> {
        if let Some(d) = self.domains.iter().find(|d| !ALLOWED_DOMAINS.contains(&d.as_str())) {
            return Err(TaskError::Unsupported(format!(
                "operator domain {d:?}: only ONNX's own operators run on nodes"
            )));
        }
        for f in &fed {
            if !self.inputs.iter().any(|i| i.name == f.name) && !self.optional.iter().any(|o| o == f.name) {
                return Err(TaskError::Signature(format!("the model has no input {:?}", f.name)));
            }
        }
        for want in &self.inputs {
            let f = fed
                .iter()
                .find(|f| f.name == want.name)
                .ok_or_else(|| TaskError::Signature(format!("the model needs input {:?}", want.name)))?;
            if want.dtype != Some(f.dtype) {
                let expected = want.dtype.map_or("a type jobs do not carry", DType::name);
                return Err(TaskError::Signature(format!(
                    "input {:?} is {}, the model takes {expected}",
                    f.name,
                    f.dtype.name()
                )));
            }
            if want.shape.is_empty() {
                continue; // no shape declared, or a scalar: the engine decides
            }
            let fits = want.shape.len() == f.shape.len()
                && want.shape.iter().zip(&f.shape).enumerate().all(|(axis, (w, &d))| match (*w, f.chunks) {
                    (None, _) => true,
                    (Some(w), Some((chunk_rows, rows))) if axis == 0 => chunk_rows == w && rows % w == 0,
                    (Some(w), _) => w == d,
                });
            if !fits {
                let mut per_run = f.shape.clone();
                if let Some((chunk_rows, rows)) = f.chunks {
                    per_run[0] = chunk_rows.min(rows);
                }
                let dims: Vec<String> = want.shape.iter().map(|d| d.map_or("?".into(), |d| d.to_string())).collect();
                return Err(TaskError::Signature(format!(
                    "input {:?} has shape {:?} per run, the model takes [{}]",
                    f.name,
                    per_run,
                    dims.join(", ")
                )));
            }
        }
        for out in outputs {
            if !self.outputs.iter().any(|o| o.name == out) {
                return Err(TaskError::Signature(format!("the model has no output {out:?}")));
            }
        }
        Ok(())
    }
}

/// An input as one run of the model is fed it.
struct Fed<'a> {
    name: &'a str,
    dtype: DType,
    /// Its shape per run (a step's slice of a per-step input); the whole batch when chunked.
    shape: Vec<u64>,
    /// For a batched input: `(chunk_rows, rows)`.
    chunks: Option<(u64, u64)>,
}

/// The domain of an `OperatorSetIdProto` (field 1).
fn opset_domain(opset: &[u8]) -> Result<String, TaskError> {
    let mut fields = Fields::new(opset);
    let mut domain = String::new();
    while let Some((field, value)) = fields.next()? {
        if let (1, Value::Bytes(b)) = (field, value) {
            domain = string(b)?;
        }
    }
    Ok(domain)
}

/// A `NodeProto`'s domain (7), unless it calls a local function, and its subgraphs (attributes'
/// `g` = 6 and `graphs` = 11).
fn read_node(
    node: &[u8],
    local: &BTreeSet<(String, String)>,
    used: &mut BTreeSet<String>,
    depth: usize,
) -> Result<(), TaskError> {
    let (mut op, mut domain, mut subgraphs) = (String::new(), String::new(), vec![]);
    let mut fields = Fields::new(node);
    while let Some((field, value)) = fields.next()? {
        match (field, value) {
            (4, Value::Bytes(b)) => op = string(b)?,
            (7, Value::Bytes(b)) => domain = string(b)?,
            (5, Value::Bytes(attribute)) => {
                let mut a = Fields::new(attribute);
                while let Some((field, value)) = a.next()? {
                    if let (6 | 11, Value::Bytes(g)) = (field, value) {
                        subgraphs.push(g);
                    }
                }
            }
            _ => {}
        }
    }
    if !local.contains(&(domain.clone(), op)) {
        used.insert(domain);
    }
    let mut nested = ModelInfo::default();
    for g in subgraphs {
        nested.read_graph(g, local, used, depth + 1, false)?;
    }
    Ok(())
}

/// The name (field `field`) of a `TensorProto`.
fn tensor_name(tensor: &[u8], field: u64) -> Result<String, TaskError> {
    let mut fields = Fields::new(tensor);
    while let Some((f, value)) = fields.next()? {
        if let (f, Value::Bytes(b)) = (f, value)
            && f == field
        {
            return string(b);
        }
    }
    Ok(String::new())
}

/// A `ValueInfoProto`: name (1), type (2) → `TypeProto.tensor_type` (1) → elem_type (1), shape (2)
/// → dims (1) → dim_value (1) or dim_param (2).
fn value_info(bytes: &[u8]) -> Result<ValueInfo, TaskError> {
    let mut info = ValueInfo { name: String::new(), dtype: None, shape: vec![] };
    let mut fields = Fields::new(bytes);
    while let Some((field, value)) = fields.next()? {
        match (field, value) {
            (1, Value::Bytes(b)) => info.name = string(b)?,
            (2, Value::Bytes(ty)) => {
                let mut t = Fields::new(ty);
                while let Some((field, value)) = t.next()? {
                    let (1, Value::Bytes(tensor)) = (field, value) else { continue };
                    let mut tt = Fields::new(tensor);
                    while let Some((field, value)) = tt.next()? {
                        match (field, value) {
                            (1, Value::Varint(e)) => info.dtype = DType::ALL.into_iter().find(|d| *d as u64 == e),
                            (2, Value::Bytes(shape)) => {
                                let mut s = Fields::new(shape);
                                while let Some((field, value)) = s.next()? {
                                    let (1, Value::Bytes(dim)) = (field, value) else { continue };
                                    let mut d = Fields::new(dim);
                                    let mut size = None;
                                    while let Some((field, value)) = d.next()? {
                                        if let (1, Value::Varint(v)) = (field, value) {
                                            size = Some(v);
                                        }
                                    }
                                    info.shape.push(size);
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::onnx::{ModelRef, OutputSpec, TensorSpec};

    const CLASSIFIER: &[u8] = include_bytes!("../../../gpufuel-fixtures/models/classifier.onnx");

    fn task(shape: &[u64], chunk_rows: u64) -> OnnxTask {
        OnnxTask {
            model: ModelRef { model: Default::default(), external: vec![] },
            inputs: vec![TensorSpec {
                name: "x".into(),
                dtype: DType::F32,
                shape: shape.to_vec(),
                data: Default::default(),
                batched: true,
            }],
            chunk_rows,
            outputs: vec![OutputSpec::named("logits"), OutputSpec::named("label")],
        }
    }

    #[test]
    fn the_classifiers_signature_is_read() {
        let info = ModelInfo::parse(CLASSIFIER).unwrap();
        assert_eq!(
            info.inputs,
            vec![ValueInfo { name: "x".into(), dtype: Some(DType::F32), shape: vec![None, Some(1), Some(8), Some(8)] }]
        );
        let outs: Vec<_> = info.outputs.iter().map(|o| (o.name.as_str(), o.dtype)).collect();
        assert_eq!(outs, [("logits", Some(DType::F32)), ("probs", Some(DType::F32)), ("label", Some(DType::I64))]);
        assert!(info.optional.is_empty());
        assert_eq!(info.domains, BTreeSet::from([String::new()]));
        info.check(&task(&[100, 1, 8, 8], 7)).unwrap();
    }

    #[test]
    fn jobs_that_do_not_fit_the_model_are_refused_with_the_reason() {
        let info = ModelInfo::parse(CLASSIFIER).unwrap();
        let refused = |t: OnnxTask, what: &str| match info.check(&t) {
            Err(TaskError::Signature(m)) => assert!(m.contains(what), "{m}"),
            other => panic!("{other:?}"),
        };
        refused(task(&[100, 1, 8, 9], 7), "shape");
        refused(task(&[100, 8, 8], 7), "shape");
        let mut t = task(&[100, 1, 8, 8], 7);
        t.inputs[0].dtype = DType::F64;
        refused(t, "is f64");
        let mut t = task(&[100, 1, 8, 8], 7);
        t.inputs[0].name = "y".into();
        refused(t, "no input \"y\"");
        let mut t = task(&[100, 1, 8, 8], 7);
        t.outputs.push(OutputSpec::named("hidden"));
        refused(t, "no output");
        let mut custom = info.clone();
        custom.domains.insert("com.example".into());
        assert!(matches!(custom.check(&task(&[4, 1, 8, 8], 1)), Err(TaskError::Unsupported(_))));
        // A fixed batch axis takes only chunks of its size, the last one included.
        let mut fixed = info.clone();
        fixed.inputs[0].shape[0] = Some(4);
        fixed.check(&task(&[8, 1, 8, 8], 4)).unwrap();
        assert!(fixed.check(&task(&[10, 1, 8, 8], 4)).is_err());
    }

    #[test]
    fn files_that_are_not_models_are_refused_without_panicking() {
        assert!(ModelInfo::parse(b"").is_err());
        assert!(ModelInfo::parse(b"not a model at all").is_err());
        for cut in [1, 10, 100, CLASSIFIER.len() - 1] {
            assert!(ModelInfo::parse(&CLASSIFIER[..cut]).is_err(), "cut at {cut}");
        }
    }
}
