//! Stored files (photos and, later, evidence materials) behind one
//! object-storage interface: a local folder by default, an S3 bucket by
//! configuration, memory in tests. Keys are ours (`photos/…`); callers never
//! see a filesystem path.

use crate::StoreError;
use futures_util::StreamExt;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, path::Path};
use std::sync::Arc;

#[derive(Clone)]
pub struct Files {
    inner: Arc<dyn ObjectStore>,
    label: String,
}

impl std::fmt::Debug for Files {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Files({})", self.label)
    }
}

fn failed(e: object_store::Error) -> StoreError {
    match e {
        object_store::Error::NotFound { .. } => StoreError::NotFound,
        other => StoreError::Files(other.to_string()),
    }
}

impl Files {
    /// A folder on this machine; files are synced to disk before a write
    /// returns, because a case row will point at them.
    pub fn local(dir: &std::path::Path) -> Result<Files, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the files folder {}: {e}", dir.display()))?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| format!("cannot use the files folder {}: {e}", dir.display()))?
            .with_fsync(true)
            .with_automatic_cleanup(true);
        Ok(Files {
            inner: Arc::new(fs),
            label: format!("folder {}", dir.display()),
        })
    }

    pub fn memory() -> Files {
        Files {
            inner: Arc::new(object_store::memory::InMemory::new()),
            label: "memory".into(),
        }
    }

    /// An S3 or S3-compatible bucket; credentials, region and endpoint come
    /// from the standard `AWS_*` environment variables, never from our
    /// configuration file, so they stay out of it and out of logs.
    #[cfg(feature = "s3")]
    pub fn s3(bucket: &str) -> Result<Files, String> {
        let s3 = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()
            .map_err(|e| format!("cannot use the S3 bucket {bucket}: {e}"))?;
        Ok(Files {
            inner: Arc::new(s3),
            label: format!("bucket {bucket}"),
        })
    }

    #[cfg(not(feature = "s3"))]
    pub fn s3(bucket: &str) -> Result<Files, String> {
        Err(format!(
            "files_bucket is set ({bucket}) but this build has no S3 support: build with `--features s3`"
        ))
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    pub async fn put(&self, key: &str, bytes: bytes::Bytes) -> Result<(), StoreError> {
        self.inner
            .put(&Path::from(key), PutPayload::from(bytes))
            .await
            .map_err(failed)?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> Result<bytes::Bytes, StoreError> {
        let r = self.inner.get(&Path::from(key)).await.map_err(failed)?;
        r.bytes().await.map_err(failed)
    }

    /// Writes what arrives on `rx` under `key` as it arrives (a multipart
    /// upload, never whole in memory), once `complete` says the writer
    /// finished well; a writer that failed (or went away) leaves nothing.
    /// Returns the bytes written.
    pub async fn put_stream(
        &self,
        key: &str,
        rx: &mut tokio::sync::mpsc::Receiver<bytes::Bytes>,
        complete: tokio::sync::oneshot::Receiver<bool>,
    ) -> Result<u64, StoreError> {
        let upload = self
            .inner
            .put_multipart(&Path::from(key))
            .await
            .map_err(failed)?;
        let mut w = object_store::WriteMultipart::new(upload);
        let mut n = 0u64;
        while let Some(b) = rx.recv().await {
            if let Err(e) = w.wait_for_capacity(4).await {
                let _ = w.abort().await;
                return Err(failed(e));
            }
            n += b.len() as u64;
            w.write(&b);
        }
        if complete.await.unwrap_or(false) {
            w.finish().await.map_err(failed)?;
            Ok(n)
        } else {
            let _ = w.abort().await;
            Err(StoreError::Files(format!("{key} was not written whole")))
        }
    }

    /// A stored file read as it is sent on.
    pub async fn get_stream(
        &self,
        key: &str,
    ) -> Result<
        futures_util::stream::BoxStream<'static, Result<bytes::Bytes, StoreError>>,
        StoreError,
    > {
        let r = self.inner.get(&Path::from(key)).await.map_err(failed)?;
        match r.payload {
            // The local store's own stream reads 8 KiB at a time, each on
            // a blocking thread: a 2 GB package took twenty seconds to send.
            object_store::GetResultPayload::File(file, _) => {
                use tokio::io::AsyncReadExt;
                let file = tokio::fs::File::from_std(file);
                Ok(futures_util::stream::unfold(Some(file), |file| async move {
                    let mut file = file?;
                    let mut buf = bytes::BytesMut::with_capacity(1 << 20);
                    while buf.len() < buf.capacity() {
                        match file.read_buf(&mut buf).await {
                            Ok(0) => break,
                            Ok(_) => {}
                            Err(e) => return Some((Err(StoreError::Files(e.to_string())), None)),
                        }
                    }
                    (!buf.is_empty()).then(|| (Ok(buf.freeze()), Some(file)))
                })
                .boxed())
            }
            payload => Ok(object_store::GetResult { payload, ..r }
                .into_stream()
                .map(|c| c.map_err(failed))
                .boxed()),
        }
    }

    /// Whether nothing at all is stored (a restore writes only into an
    /// empty store).
    pub async fn is_empty(&self) -> Result<bool, StoreError> {
        let mut s = self.inner.list(None);
        match s.next().await {
            None => Ok(true),
            Some(Ok(_)) => Ok(false),
            Some(Err(e)) => Err(failed(e)),
        }
    }

    /// Removing what is already gone is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self.inner.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(failed(e)),
        }
    }

    /// Keys under `prefix` last written before `before` (seconds since the
    /// epoch), for the orphan sweep.
    pub async fn keys_older_than(
        &self,
        prefix: &str,
        before: i64,
    ) -> Result<Vec<String>, StoreError> {
        let prefix = Path::from(prefix);
        let mut out = vec![];
        let mut s = self.inner.list(Some(&prefix));
        while let Some(meta) = s.next().await {
            let meta = meta.map_err(failed)?;
            if meta.last_modified.timestamp() < before {
                out.push(meta.location.to_string());
            }
        }
        Ok(out)
    }
}
