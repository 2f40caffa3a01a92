"""The exceptions of the GPUFuel SDK.

Every error raised by the SDK is a ``GpuFuelError`` with a stable ``code`` (the same codes as
the Rust crates' ``ErrorCode::code`` and the Node package's ``error.code``). Bad arguments are also
``ValueError``\\ s and timeouts are also the built-in ``TimeoutError``.
"""

from __future__ import annotations


class GpuFuelError(Exception):
    """Base class; ``code`` names the kind of failure."""

    code = "GPUFUEL_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgumentError(GpuFuelError, ValueError):
    """An argument is out of range, of the wrong type, shape or dtype. Nothing was submitted."""

    code = "INVALID_ARGUMENT"


class InvalidTaskError(GpuFuelError, ValueError):
    """The task is malformed (sizes that do not match, an empty model). Nothing was submitted."""

    code = "INVALID_TASK"


class NotSettledError(GpuFuelError):
    """The job ended otherwise than settled (slashed, cancelled, expired): no verified result."""

    code = "NOT_SETTLED"


class TaskFailedError(GpuFuelError):
    """The committee verified that the task fails for everyone (the model does not load or run):
    the escrow came back less the validators' fee; the message says why."""

    code = "TASK_FAILED"


class NotRegisteredError(GpuFuelError):
    """The wallet is not a submitter yet: ``Client.register()`` stakes and registers it."""

    code = "NOT_REGISTERED"


class ChainError(GpuFuelError):
    """The chain refused or could not process a request."""

    code = "CHAIN_ERROR"


class ProgramError(ChainError):
    """The GPUFuel program refused the instruction (the message names the program's error)."""

    code = "PROGRAM_ERROR"


class TransactionError(ChainError):
    """The transaction failed for another reason (funds, signatures, the token program)."""

    code = "TRANSACTION_FAILED"


class AccountNotFoundError(ChainError):
    """An account (job, node, market) does not exist or is not of the expected type."""

    code = "ACCOUNT_NOT_FOUND"


class RpcError(ChainError):
    """The cluster could not be reached or answered with an error."""

    code = "RPC_ERROR"


class NoQuoteError(ChainError):
    """No node satisfies the requirements, so no quote can be given."""

    code = "NO_QUOTE"


class TimeoutError(GpuFuelError, TimeoutError):  # noqa: A001 - also the built-in
    """A transaction or a wait did not finish in time."""

    code = "TIMEOUT"


class ConfigError(GpuFuelError):
    """A config or keypair file is missing or malformed."""

    code = "CONFIG_ERROR"


class StoreError(GpuFuelError):
    """The content store (embedded or Kubo) failed or holds corrupted data."""

    code = "STORE_ERROR"


class ExecError(GpuFuelError):
    """An executor failed to run the work."""

    code = "EXEC_ERROR"


_BY_CODE = {
    cls.code: cls
    for cls in (
        InvalidArgumentError,
        InvalidTaskError,
        NotSettledError,
        TaskFailedError,
        NotRegisteredError,
        ProgramError,
        TransactionError,
        AccountNotFoundError,
        RpcError,
        NoQuoteError,
        TimeoutError,
        ConfigError,
        StoreError,
        ExecError,
    )
}


def _make(code: str, message: str) -> GpuFuelError:
    """The exception for an error code (called by the native module)."""
    err = _BY_CODE.get(code, GpuFuelError)(message)
    err.code = code
    return err
