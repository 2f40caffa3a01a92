//! Input bytes that arrive while the run goes on: the agent streams an input from the store into
//! a [`FeedWriter`], and the executor, on its blocking thread, reads each part from the [`Feed`]
//! as soon as it has arrived. The computation starts with the first rows instead of after the
//! last.

use std::{
    ops::Range,
    pin::Pin,
    sync::{Arc, Condvar, Mutex},
    task::{Context, Poll},
};

use gpufuel_core::task::TaskError;
use tokio::io::AsyncWrite;

use super::ExecError;

/// An input's bytes, whole or arriving.
#[derive(Debug, Clone)]
pub struct Feed {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    arrived: Mutex<Arrived>,
    grew: Condvar,
}

#[derive(Debug, Default)]
struct Arrived {
    bytes: Vec<u8>,
    /// Set when nothing more will arrive: `Err` says why it stopped short.
    end: Option<Result<(), String>>,
}

impl Feed {
    /// Bytes that are all here.
    pub fn whole(bytes: Vec<u8>) -> Self {
        let arrived = Arrived { bytes, end: Some(Ok(())) };
        Self { shared: Arc::new(Shared { arrived: Mutex::new(arrived), grew: Condvar::new() }) }
    }

    /// A feed of `len` bytes still to come, and the writer they come through.
    pub fn expecting(len: usize) -> (Self, FeedWriter) {
        let arrived = Arrived { bytes: Vec::with_capacity(len), end: None };
        let shared = Arc::new(Shared { arrived: Mutex::new(arrived), grew: Condvar::new() });
        (Self { shared: shared.clone() }, FeedWriter { shared, expected: len, offered: 0 })
    }

    /// Waits (blocking the thread) until the bytes in `range` have arrived, then hands them to
    /// `f`. A range past the input's end is [`TaskError::Size`]; an input that stopped arriving is
    /// [`ExecError::Failed`].
    pub fn read<R>(&self, range: Range<u64>, f: impl FnOnce(&[u8]) -> R) -> Result<R, ExecError> {
        let (start, end) = (range.start as usize, range.end as usize);
        let mut arrived = self.shared.arrived.lock().expect("feed lock");
        while arrived.bytes.len() < end && arrived.end.is_none() {
            arrived = self.shared.grew.wait(arrived).expect("feed lock");
        }
        match (&arrived.end, arrived.bytes.get(start..end)) {
            (_, Some(bytes)) => Ok(f(bytes)),
            (Some(Err(why)), None) => Err(ExecError::Failed(format!("an input stopped arriving: {why}"))),
            (_, None) => {
                Err(TaskError::Size { what: "ONNX input", expected: range.end, got: arrived.bytes.len() as u64 }.into())
            }
        }
    }
}

/// Where a [`Feed`]'s bytes are written as they arrive. Dropping it ends the feed: short of the
/// expected length, readers waiting for the rest get an error instead of waiting forever.
#[derive(Debug)]
pub struct FeedWriter {
    shared: Arc<Shared>,
    expected: usize,
    offered: u64,
}

impl FeedWriter {
    /// Bytes written to it so far, those refused past the expected length included.
    pub fn offered(&self) -> u64 {
        self.offered
    }

    /// The length the feed expects.
    pub fn expected(&self) -> u64 {
        self.expected as u64
    }

    fn push(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.offered += data.len() as u64;
        let mut arrived = self.shared.arrived.lock().expect("feed lock");
        if arrived.bytes.len() + data.len() > self.expected {
            return Err(std::io::Error::other(TaskError::Size {
                what: "ONNX input",
                expected: self.expected as u64,
                got: (arrived.bytes.len() + data.len()) as u64,
            }));
        }
        arrived.bytes.extend_from_slice(data);
        self.shared.grew.notify_all();
        Ok(())
    }
}

impl AsyncWrite for FeedWriter {
    fn poll_write(mut self: Pin<&mut Self>, _: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        Poll::Ready(self.push(data).map(|()| data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl Drop for FeedWriter {
    fn drop(&mut self) {
        let mut arrived = self.shared.arrived.lock().expect("feed lock");
        let got = arrived.bytes.len();
        arrived.end =
            Some(if got == self.expected { Ok(()) } else { Err(format!("{got} of {} bytes arrived", self.expected)) });
        self.shared.grew.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_reader_waits_for_its_range_and_learns_when_the_input_stops_short() {
        let (feed, mut writer) = Feed::expecting(8);
        let reader = feed.clone();
        let waiting = tokio::task::spawn_blocking(move || reader.read(2..6, <[u8]>::to_vec));
        writer.write_all(&[0, 1, 2]).await.unwrap();
        writer.write_all(&[3, 4, 5]).await.unwrap();
        assert_eq!(waiting.await.unwrap().unwrap(), vec![2, 3, 4, 5]);
        assert!(writer.write_all(&[6, 7, 8]).await.is_err(), "more than the input's size");
        let reader = feed.clone();
        let waiting = tokio::task::spawn_blocking(move || reader.read(6..8, <[u8]>::to_vec));
        drop(writer); // the fetch stops with 6 of 8 bytes
        assert!(matches!(waiting.await.unwrap(), Err(ExecError::Failed(why)) if why.contains("6 of 8")));
        assert_eq!(feed.read(0..2, <[u8]>::to_vec).unwrap(), vec![0, 1], "what arrived stays readable");
        let whole = Feed::whole(vec![9; 4]);
        assert!(matches!(whole.read(2..5, |_| ()), Err(ExecError::Task(TaskError::Size { .. }))));
    }
}
