"""ONNX jobs from Python: a model (path, bytes or onnx.ModelProto) and numpy inputs in, verified
outputs out as a dict of numpy arrays, equal to onnxruntime run here; bad jobs refused before
anything is submitted."""

from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest

import gpufuel

MODELS = Path(__file__).resolve().parents[3] / "gpufuel-fixtures" / "models"
CLASSIFIER = MODELS / "classifier.onnx"


def images(rows, seed):
    return np.random.default_rng(seed).standard_normal((rows, 1, 8, 8)).astype(np.float32)


def local(x):
    session = onnxruntime.InferenceSession(str(CLASSIFIER))
    logits, label = session.run(["logits", "label"], {"x": x})
    return logits, label


async def test_onnx_outputs_equal_onnxruntime_run_locally(client):
    x = images(200, 1)
    before = client.balance()
    job = await client.submit_onnx(
        CLASSIFIER, {"x": x}, outputs=["logits", "label"], scores={"label": "logits"}, gpu_seconds=4
    )
    out = await client.result(job, timeout=120)
    assert list(out) == ["logits", "label"]
    logits, label = local(x)
    assert out["logits"].dtype == np.float32 and out["logits"].shape == (200, 10)
    assert out["label"].dtype == np.int64 and out["label"].shape == (200,)
    np.testing.assert_allclose(out["logits"], logits, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(out["label"], label)
    status = client.status(job)
    assert status.state == "Settled" and status.votes_fail == 0
    assert client.balance() == before - status.price * 4


def test_model_as_bytes_or_model_proto_and_every_output_by_default(client):
    x = images(30, 2)
    job = client.submit_onnx_sync(onnx.load(str(CLASSIFIER)), {"x": x}, chunk_rows=7)
    out = client.result_sync(job, timeout=120)
    assert list(out) == ["logits", "probs", "label"]
    np.testing.assert_allclose(out["probs"].sum(axis=1), np.ones(30), rtol=1e-5)
    job = client.submit_onnx_sync(CLASSIFIER.read_bytes(), {"x": x}, outputs=["label"])
    np.testing.assert_array_equal(client.result_sync(job, timeout=120)["label"], local(x)[1])


@pytest.mark.parametrize(
    "model, inputs, kwargs, message",
    [
        (b"not a model", {"x": images(4, 3)}, {}, "not an ONNX protobuf"),
        (CLASSIFIER, {"y": images(4, 3)}, {}, 'no input "y"'),
        (CLASSIFIER, {"x": images(4, 3).astype(np.float64)}, {}, "is f64"),
        (CLASSIFIER, {"x": np.zeros((4, 1, 8, 9), np.float32)}, {}, "shape"),
        (CLASSIFIER, {"x": images(4, 3)}, {"outputs": ["hidden"]}, "no output"),
        (CLASSIFIER, {"x": np.full((4, 1, 8, 8), np.nan, np.float32)}, {}, "NaN"),
    ],
)
def test_bad_jobs_are_refused_before_anything_is_submitted(client, model, inputs, kwargs, message):
    before = client.balance()
    with pytest.raises(gpufuel.errors.InvalidTaskError, match=message):
        client.submit_onnx_sync(model, inputs, **kwargs)
    assert client.balance() == before


def test_bad_arguments_are_invalid_argument_errors(client):
    with pytest.raises(gpufuel.errors.InvalidArgumentError, match="dtype complex64"):
        client.submit_onnx_sync(CLASSIFIER, {"x": np.zeros((2, 1, 8, 8), np.complex64)})
    with pytest.raises(gpufuel.errors.InvalidArgumentError, match="cannot read"):
        client.submit_onnx_sync("/nonexistent/model.onnx", {"x": images(2, 4)})
    with pytest.raises(gpufuel.errors.InvalidArgumentError, match="not in outputs"):
        client.submit_onnx_sync(CLASSIFIER, {"x": images(2, 4)}, outputs=["logits"], scores={"label": "logits"})
    with pytest.raises(gpufuel.errors.InvalidArgumentError, match="chunk_rows"):
        client.submit_onnx_sync(CLASSIFIER, {"x": images(2, 4)}, chunk_rows=-1)


def test_a_model_that_fails_for_everyone_raises_task_failed_with_the_reason(client):
    before = client.balance()
    job = client.submit_onnx_sync(MODELS / "broken.onnx", {"x": np.zeros((4, 4), np.float32)}, gpu_seconds=4)
    with pytest.raises(gpufuel.errors.TaskFailedError, match="Incompatible dimensions"):
        client.result_sync(job, timeout=120)
    status = client.status(job)
    assert status.state == "Invalid"
    assert before - status.price * 4 < client.balance() < before, "refunded less the validators' fee"


def stepper_inputs(seed):
    rng = np.random.default_rng(seed)
    z = rng.uniform(-1, 1, (4, 16)).astype(np.float32)
    noise = rng.uniform(-1, 1, (40, 16)).astype(np.float32)
    w = (rng.uniform(-1, 1, (16, 16)) * 0.3).astype(np.float32)
    return z, noise, w


def test_a_step_graph_returns_the_final_state_onnxruntime_reaches(client):
    z, noise, w = stepper_inputs(5)
    job = client.submit_onnx_steps_sync(
        MODELS / "stepper.onnx", {"z": z}, {"z": "z_next"}, steps=40, checkpoint_every=5, step_input="t",
        per_step={"noise": noise}, constants={"w": w}, gpu_seconds=4,
    )
    out = client.result_sync(job, timeout=120)
    session = onnxruntime.InferenceSession(str(MODELS / "stepper.onnx"))
    state = z
    for t in range(40):
        state = session.run(["z_next"], {"z": state, "t": np.array(t, np.int64), "noise": noise[t], "w": w})[0]
    assert list(out) == ["z"]
    np.testing.assert_allclose(out["z"], state, rtol=1e-4, atol=1e-5)


def test_bad_step_graphs_are_refused(client):
    z, noise, w = stepper_inputs(6)
    common = dict(steps=40, checkpoint_every=5, step_input="t", per_step={"noise": noise}, constants={"w": w})
    with pytest.raises(gpufuel.errors.InvalidArgumentError, match="next has no output"):
        client.submit_onnx_steps_sync(MODELS / "stepper.onnx", {"z": z}, {}, **common)
    with pytest.raises(gpufuel.errors.InvalidTaskError, match="no output"):
        client.submit_onnx_steps_sync(MODELS / "stepper.onnx", {"z": z}, {"z": "z_after"}, **common)
    with pytest.raises(gpufuel.errors.InvalidTaskError, match="one slice per step"):
        client.submit_onnx_steps_sync(MODELS / "stepper.onnx", {"z": z}, {"z": "z_next"}, **{**common, "steps": 41})
    with pytest.raises(gpufuel.errors.InvalidArgumentError, match="steps"):
        client.submit_onnx_steps_sync(MODELS / "stepper.onnx", {"z": z}, {"z": "z_next"}, **{**common, "steps": -1})
    z[1, 3] = np.inf
    with pytest.raises(gpufuel.errors.InvalidTaskError, match="NaN or an infinity"):
        client.submit_onnx_steps_sync(MODELS / "stepper.onnx", {"z": z}, {"z": "z_next"}, **common)
