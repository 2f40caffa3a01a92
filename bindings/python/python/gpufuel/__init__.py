"""GPUFuel: submit GPU jobs to a decentralized compute market on Solana and get verified results.

>>> import numpy as np, gpufuel
>>> with gpufuel.LocalNetwork() as net:
...     client = net.client()
...     job = client.submit_matmul_sync(np.ones((64, 32)), np.ones((32, 16)))
...     c = client.result_sync(job)          # checked by validators, paid from escrow
"""

from ._gpufuel import (
    GPU_CLASSES,
    Client,
    JobStatus,
    LocalNetwork,
    NodeAgent,
    NodeStatus,
    Quote,
    ValidatorAgent,
    Work,
)
from .errors import (
    AccountNotFoundError,
    ChainError,
    ConfigError,
    ExecError,
    GpuFuelError,
    InvalidArgumentError,
    InvalidTaskError,
    NoQuoteError,
    NotRegisteredError,
    NotSettledError,
    ProgramError,
    RpcError,
    StoreError,
    TaskFailedError,
    TimeoutError,
    TransactionError,
)

__all__ = [
    "GPU_CLASSES",
    "Client",
    "JobStatus",
    "LocalNetwork",
    "NodeAgent",
    "NodeStatus",
    "Quote",
    "ValidatorAgent",
    "Work",
    "AccountNotFoundError",
    "ChainError",
    "ConfigError",
    "ExecError",
    "GpuFuelError",
    "InvalidArgumentError",
    "InvalidTaskError",
    "NoQuoteError",
    "NotRegisteredError",
    "NotSettledError",
    "ProgramError",
    "RpcError",
    "StoreError",
    "TaskFailedError",
    "TimeoutError",
    "TransactionError",
]
