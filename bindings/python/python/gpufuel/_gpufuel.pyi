"""Type stubs of the native module (see the docstrings for behaviour). An argument left ``None``
takes the SDK's default (the Rust crates define each once)."""

from collections.abc import Awaitable, Callable
from os import PathLike
from typing import Union

import numpy as np
import numpy.typing as npt

ArrayLike = Union[npt.ArrayLike, bytes, bytearray]
GpuClass = Union[int, str]

GPU_CLASSES: list[tuple[str, int]]

class Quote:
    price_low: int
    price_high: int
    reference_price: int
    expected_wait_secs: int
    eligible_nodes: int
    available_nodes: int
    jobs_ahead: int
    escrow: int

class JobStatus:
    address: str
    state: str
    done: bool
    gpu_class: int
    class_name: str
    urgent: bool
    price: int
    escrow: int
    premium: int
    gpu_seconds: int
    deadline: int
    node: str | None
    submitter: str
    round: int
    votes_pass: int
    votes_fail: int

class NodeStatus:
    address: str
    operator: str
    gpu_class: int
    class_name: str
    gpu_count: int
    vram_mib: int
    stake: int
    price_floor: int
    active_jobs: int
    completed: int
    failed_validations: int
    missed_deadlines: int

class Work:
    kind: str
    m: int
    k: int
    n: int
    a: npt.NDArray[np.float32]
    b: npt.NDArray[np.float32]

Executor = Callable[[Work], Union[npt.ArrayLike, Awaitable[npt.ArrayLike]]]
# A product or trained parameters; a kernel's buffers; an ONNX job's outputs by name.
Result = Union[npt.NDArray[np.float32], list[bytes], dict[str, npt.NDArray]]
# An ONNX model: a path, its bytes, or an onnx.ModelProto.
Model = Union[str, PathLike, bytes, bytearray, object]

class Client:
    @staticmethod
    def connect(
        url: str | None = None,
        keypair: str | PathLike[str] | None = None,
        commitment: str | None = None,
        config: str | PathLike[str] | None = None,
        kubo: str | None = None,
        store: str | PathLike[str] | None = None,
        program_id: str | None = None,
        pin_endpoint: str | None = None,
        pin_token: str | None = None,
    ) -> Client: ...
    @property
    def address(self) -> str: ...
    def balance(self) -> int: ...
    def register(self, stake: int | None = None) -> None: ...
    def is_registered(self) -> bool: ...
    def prices(self) -> list[tuple[str, int]]: ...
    def quote(
        self,
        *,
        gpu_class: GpuClass | None = None,
        gpu_seconds: int | None = None,
        urgent: bool | None = None,
        gpu_count: int | None = None,
        min_vram_mib: int | None = None,
    ) -> Quote: ...
    def submit_matmul(
        self,
        a: ArrayLike,
        b: ArrayLike,
        *,
        m: int | None = None,
        k: int | None = None,
        n: int | None = None,
        bf16_output: bool = False,
        gpu_class: GpuClass | None = None,
        gpu_seconds: int | None = None,
        max_price: int | None = None,
        deadline_secs: int | None = None,
        urgent: bool | None = None,
        gpu_count: int | None = None,
        min_vram_mib: int | None = None,
    ) -> Awaitable[str]: ...
    def submit_matmul_sync(
        self,
        a: ArrayLike,
        b: ArrayLike,
        *,
        m: int | None = None,
        k: int | None = None,
        n: int | None = None,
        bf16_output: bool = False,
        gpu_class: GpuClass | None = None,
        gpu_seconds: int | None = None,
        max_price: int | None = None,
        deadline_secs: int | None = None,
        urgent: bool | None = None,
        gpu_count: int | None = None,
        min_vram_mib: int | None = None,
    ) -> str: ...
    def submit_training(
        self,
        x: npt.ArrayLike,
        y: npt.ArrayLike,
        init: npt.ArrayLike,
        *,
        hidden: int,
        batch: int | None = None,
        learning_rate: float | None = None,
        segments: int | None = None,
        steps_per_segment: int | None = None,
        gpu_class: GpuClass | None = None,
        gpu_seconds: int | None = None,
        max_price: int | None = None,
        deadline_secs: int | None = None,
        urgent: bool | None = None,
    ) -> Awaitable[str]: ...
    def submit_training_sync(
        self,
        x: npt.ArrayLike,
        y: npt.ArrayLike,
        init: npt.ArrayLike,
        *,
        hidden: int,
        batch: int | None = None,
        learning_rate: float | None = None,
        segments: int | None = None,
        steps_per_segment: int | None = None,
        gpu_class: GpuClass | None = None,
        gpu_seconds: int | None = None,
        max_price: int | None = None,
        deadline_secs: int | None = None,
        urgent: bool | None = None,
    ) -> str: ...
    def submit_onnx(
        self,
        model: Model,
        inputs: dict[str, npt.ArrayLike],
        *,
        constants: dict[str, npt.ArrayLike] | None = None,
        outputs: list[str] | None = None,
        chunk_rows: int | None = None,
        scores: dict[str, str] | None = None,
        tolerances: dict[str, tuple[float, float]] | None = None,
        allow_non_finite: bool = False,
        gpu_class: GpuClass | None = None,
        gpu_seconds: int | None = None,
        max_price: int | None = None,
        deadline_secs: int | None = None,
        urgent: bool | None = None,
        gpu_count: int | None = None,
        min_vram_mib: int | None = None,
    ) -> Awaitable[str]: ...
    def submit_onnx_sync(
        self,
        model: Model,
        inputs: dict[str, npt.ArrayLike],
        *,
        constants: dict[str, npt.ArrayLike] | None = None,
        outputs: list[str] | None = None,
        chunk_rows: int | None = None,
        scores: dict[str, str] | None = None,
        tolerances: dict[str, tuple[float, float]] | None = None,
        allow_non_finite: bool = False,
        gpu_class: GpuClass | None = None,
        gpu_seconds: int | None = None,
        max_price: int | None = None,
        deadline_secs: int | None = None,
        urgent: bool | None = None,
        gpu_count: int | None = None,
        min_vram_mib: int | None = None,
    ) -> str: ...
    def submit_onnx_steps(
        self,
        model: Model,
        state: dict[str, npt.ArrayLike],
        next: dict[str, str],
        *,
        steps: int,
        checkpoint_every: int,
        step_input: str | None = None,
        per_step: dict[str, npt.ArrayLike] | None = None,
        constants: dict[str, npt.ArrayLike] | None = None,
        tolerances: dict[str, tuple[float, float]] | None = None,
        allow_non_finite: bool = False,
        gpu_class: GpuClass | None = None,
        gpu_seconds: int | None = None,
        max_price: int | None = None,
        deadline_secs: int | None = None,
        urgent: bool | None = None,
        gpu_count: int | None = None,
        min_vram_mib: int | None = None,
    ) -> Awaitable[str]: ...
    def submit_onnx_steps_sync(
        self,
        model: Model,
        state: dict[str, npt.ArrayLike],
        next: dict[str, str],
        *,
        steps: int,
        checkpoint_every: int,
        step_input: str | None = None,
        per_step: dict[str, npt.ArrayLike] | None = None,
        constants: dict[str, npt.ArrayLike] | None = None,
        tolerances: dict[str, tuple[float, float]] | None = None,
        allow_non_finite: bool = False,
        gpu_class: GpuClass | None = None,
        gpu_seconds: int | None = None,
        max_price: int | None = None,
        deadline_secs: int | None = None,
        urgent: bool | None = None,
        gpu_count: int | None = None,
        min_vram_mib: int | None = None,
    ) -> str: ...
    def status(self, job: str) -> JobStatus: ...
    def jobs(self, mine: bool = False) -> list[JobStatus]: ...
    def nodes(self) -> list[NodeStatus]: ...
    def cancel(self, job: str) -> None: ...
    def wait(self, job: str, timeout: float | None = None) -> Awaitable[JobStatus]: ...
    def wait_sync(self, job: str, timeout: float | None = None) -> JobStatus: ...
    def result(self, job: str, timeout: float | None = None) -> Awaitable[Result]: ...
    def result_sync(self, job: str, timeout: float | None = None) -> Result: ...

class LocalNetwork:
    def __init__(
        self,
        *,
        nodes: int | None = None,
        validators: int | None = None,
        dishonest: list[str] = ...,
        use_gpu: bool | None = None,
        tokens: int | None = None,
    ) -> None: ...
    def client(self, tokens: int | None = None, *, register: bool = True) -> Client: ...
    def add_node(
        self, executor: Executor, *, gpu_class: GpuClass | None = None, vram_mib: int | None = None, device: str = "python"
    ) -> str: ...
    def tokens_held(self) -> int: ...
    @property
    def gpu_note(self) -> str | None: ...
    def close(self) -> None: ...
    def __enter__(self) -> LocalNetwork: ...
    def __exit__(self, *args: object) -> None: ...

class NodeAgent:
    def __init__(
        self,
        client: Client,
        *,
        executor: Executor | None = None,
        stake: int | None = None,
        floor: int | None = None,
        pricing: str | None = None,
        gpu_class: GpuClass | None = None,
        vram_mib: int | None = None,
    ) -> None: ...
    def tick(self) -> dict[str, int]: ...
    def running(self) -> int: ...

class ValidatorAgent:
    def __init__(self, client: Client, *, stake: int | None = None) -> None: ...
    def tick(self) -> tuple[int, int, int]: ...
