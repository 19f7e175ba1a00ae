//! S3 buckets with versioning, default encryption and a public access block.

use super::{absent_if, bool_prop, created, has, str_prop, tags_prop, AwsResource, Call};
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Finding, Identity, Known, Prop, PropKind, TypeSchema, TAGS};
use async_trait::async_trait;
use aws_sdk_s3::types::{BucketVersioningStatus, Delete, ObjectIdentifier, Tag, Tagging};
use serde_json::{json, Value};

/// AWS's bucket naming rules (general purpose buckets): a bucket that validates must be
/// one AWS can create, so apply never fails half-way on its name.
fn check_bucket(k: &Known) -> Vec<Finding> {
    let Some(name) = k.get("bucket").and_then(Value::as_str) else {
        return Vec::new();
    };
    let why = if !(3..=63).contains(&name.len()) {
        Some(format!("`{name}` is {} characters long; a bucket name has 3 to 63", name.len()))
    } else if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-') {
        Some(format!("`{name}` may hold only lowercase letters, digits, `.` and `-`"))
    } else if !name.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !name.ends_with(|c: char| c.is_ascii_alphanumeric())
    {
        Some(format!("`{name}` must begin and end with a letter or digit"))
    } else if name.contains("..") {
        Some(format!("`{name}` has two dots in a row"))
    } else if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
        Some(format!("`{name}` is formatted as an IP address"))
    } else if ["xn--", "sthree-", "amzn-s3-demo-"].iter().any(|p| name.starts_with(p))
        || ["-s3alias", "--ol-s3", "--x-s3", ".mrap"].iter().any(|p| name.ends_with(p))
    {
        Some(format!("`{name}` uses a prefix or suffix AWS reserves"))
    } else {
        None
    };
    why.map(|w| Finding::new("bucket", w, "see AWS's bucket naming rules: 3-63 lowercase letters, digits, `.` and `-`"))
        .into_iter()
        .collect()
}

pub static BUCKET: TypeSchema = TypeSchema {
    name: "aws.s3.bucket",
    doc: "An S3 bucket: versioning, default encryption, public access block.",
    props: &[
        Prop::new("bucket", PropKind::Str).required().replace(),
        Prop::new("versioning", PropKind::Bool).default("false"),
        Prop::new("encryption", PropKind::Enum(&["AES256", "aws:kms"])).default("\"AES256\""),
        Prop::new("kms_key_id", PropKind::Str),
        Prop::new("block_public_access", PropKind::Bool).default("true"),
        Prop::new("force_destroy", PropKind::Bool).default("false"),
        TAGS,
    ],
    attrs: &["id", "arn", "bucket_regional_domain_name"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("bucket"),
    arn: None,
    normalize: None,
    timeouts: crate::schema::QUICK,
    stateful: true,
    check: Some(check_bucket),
};

pub struct Bucket;

/// S3's bucket tagger: puts the whole tag set (or deletes it), by bucket name.
pub(super) async fn put_tags(c: &Call<'_>, name: &str, p: &Props) -> Result<(), ProviderError> {
    let tags = tags_prop(p);
    if tags.is_empty() {
        c.s3.delete_bucket_tagging().bucket(name).send().await?;
        return Ok(());
    }
    let set = tags
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(super::invalid))
        .collect::<Result<Vec<_>, _>>()?;
    let tagging = Tagging::builder().set_tag_set(Some(set)).build().map_err(super::invalid)?;
    c.s3.put_bucket_tagging().bucket(name).tagging(tagging).send().await?;
    Ok(())
}

/// Who holds a bucket name, as the first read of the bucket itself tells (404: nobody,
/// 403: another account): no call of its own, where `ListBuckets` would list the whole
/// account's buckets.
enum Held<T> {
    Absent,
    Ours(T),
    Elsewhere,
}

fn held<T, E>(
    res: Result<T, aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::http::Response>>,
) -> Result<Held<T>, ProviderError>
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
{
    match res {
        Ok(v) => Ok(Held::Ours(v)),
        Err(e) => match e.raw_response().map(|r| r.status().as_u16()) {
            Some(404) => Ok(Held::Absent),
            Some(403) => Ok(Held::Elsewhere),
            _ => Err(e.into()),
        },
    }
}

impl Bucket {
    /// The bucket's configuration; its versioning read also tells who holds the name.
    async fn read_bucket(&self, c: &Call<'_>, name: &str) -> Result<Held<Observed>, ProviderError> {
        // Three independent reads, side by side.
        let (versioning, encryption, public) = tokio::join!(
            c.s3.get_bucket_versioning().bucket(name).send(),
            c.s3.get_bucket_encryption().bucket(name).send(),
            c.s3.get_public_access_block().bucket(name).send(),
        );
        let versioning = match held(versioning)? {
            Held::Ours(v) => v,
            Held::Absent => return Ok(Held::Absent),
            Held::Elsewhere => return Ok(Held::Elsewhere),
        };
        let encryption = absent_if(encryption, "ServerSideEncryptionConfigurationNotFoundError")?.and_then(|out| {
            let d = out
                .server_side_encryption_configuration()?
                .rules()
                .first()?
                .apply_server_side_encryption_by_default()?;
            Some((d.sse_algorithm().as_str().to_string(), d.kms_master_key_id().map(str::to_string)))
        });
        let public = absent_if(public, "NoSuchPublicAccessBlockConfiguration")?
            .and_then(|out| out.public_access_block_configuration().cloned())
            .is_some_and(|c| {
                c.block_public_acls() == Some(true)
                    && c.ignore_public_acls() == Some(true)
                    && c.block_public_policy() == Some(true)
                    && c.restrict_public_buckets() == Some(true)
            });
        let mut properties = Props::new();
        properties.insert("bucket".into(), json!(name));
        properties.insert("versioning".into(), json!(versioning.status() == Some(&BucketVersioningStatus::Enabled)));
        if let Some((algo, key)) = encryption {
            properties.insert("encryption".into(), json!(algo));
            if let Some(k) = key {
                properties.insert("kms_key_id".into(), json!(k));
            }
        }
        properties.insert("block_public_access".into(), json!(public));
        let mut attributes = Props::new();
        attributes.insert("id".into(), json!(name));
        attributes.insert("arn".into(), json!(format!("arn:aws:s3:::{name}")));
        attributes.insert("bucket_regional_domain_name".into(), json!(format!("{name}.s3.{}.amazonaws.com", c.region)));
        Ok(Held::Ours(Observed { id: name.to_string(), properties, attributes }))
    }

    /// Delete every object version and delete marker (for `force_destroy`).
    async fn empty(&self, c: &Call<'_>, name: &str) -> Result<(), ProviderError> {
        loop {
            let out = c.s3.list_object_versions().bucket(name).send().await?;
            let mut ids = Vec::new();
            for v in out.versions() {
                ids.push((v.key().unwrap_or_default().to_string(), v.version_id().map(str::to_string)));
            }
            for m in out.delete_markers() {
                ids.push((m.key().unwrap_or_default().to_string(), m.version_id().map(str::to_string)));
            }
            if ids.is_empty() {
                return Ok(());
            }
            let objects = ids
                .into_iter()
                .map(|(k, v)| ObjectIdentifier::builder().key(k).set_version_id(v).build().map_err(super::invalid))
                .collect::<Result<Vec<_>, _>>()?;
            let delete = Delete::builder().set_objects(Some(objects)).quiet(true).build().map_err(super::invalid)?;
            c.s3.delete_objects().bucket(name).delete(delete).send().await?;
        }
    }
}

#[async_trait]
impl AwsResource for Bucket {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let name = str_prop(p, "bucket").unwrap_or_default().to_string();
        crate::sdk::s3::create_bucket(&c.s3, &name, &c.region).await?;
        let all: Vec<String> = ["tags", "versioning", "encryption", "block_public_access"].map(String::from).to_vec();
        self.update(c, &name, &Props::new(), p, &all).await.map_err(created(&name))?;
        Ok(Observed { id: name, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for id in ids {
            out.push(match self.read_bucket(c, id).await? {
                Held::Absent => None,
                Held::Ours(o) => Some(o),
                // Another account's (AWS answers 403): nothing of it can be read, and it
                // carries none of our tags.
                Held::Elsewhere => Some(Observed {
                    id: id.clone(),
                    properties: Props::from_iter([("bucket".into(), json!(id)), ("tags".into(), json!({}))]),
                    attributes: Props::new(),
                }),
            });
        }
        Ok(out)
    }

    async fn update(
        &self,
        c: &Call<'_>,
        id: &str,
        _old: &Props,
        new: &Props,
        changed: &[String],
    ) -> Result<(), ProviderError> {
        if has(changed, "tags") {
            put_tags(c, id, new).await?;
        }
        if has(changed, "versioning") {
            // A bucket that was never versioned needs no call to stay unversioned.
            let on = bool_prop(new, "versioning").unwrap_or(false);
            if on || !_old.is_empty() {
                crate::sdk::s3::put_versioning(&c.s3, id, on).await?;
            }
        }
        if has(changed, "encryption") || has(changed, "kms_key_id") {
            crate::sdk::s3::put_encryption(
                &c.s3,
                id,
                str_prop(new, "encryption").unwrap_or("AES256"),
                str_prop(new, "kms_key_id"),
            )
            .await?;
        }
        if has(changed, "block_public_access") {
            crate::sdk::s3::put_public_access_block(&c.s3, id, bool_prop(new, "block_public_access").unwrap_or(true))
                .await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, p: &Props) -> Result<(), ProviderError> {
        if bool_prop(p, "force_destroy") == Some(true) {
            self.empty(c, id).await?;
        }
        c.s3.delete_bucket().bucket(id).send().await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- object

pub static OBJECT: TypeSchema = TypeSchema {
    name: "aws.s3.object",
    doc: "A local file uploaded to S3 (a Glue script, a connector archive).",
    props: &[
        Prop::new("bucket", PropKind::Str).required().replace(),
        Prop::new("key", PropKind::Str).required().replace(),
        // A path relative to the stack file.
        Prop::new("source", PropKind::Str).required().write_only(),
        // Filled in by cloudbridge from the file's content: a new hash means a new upload.
        Prop::new("source_hash", PropKind::Str),
        Prop::new("content_type", PropKind::Str),
    ],
    attrs: &["id", "arn", "uri", "etag"],
    changes_on_update: &["etag"],
    restarts_cdc: None,
    taggable: false,
    identity: Identity::Named(&["bucket", "key"]),
    arn: None,
    normalize: None,
    timeouts: crate::schema::QUICK,
    stateful: false,
    check: None,
};

/// Object metadata key holding the SHA-256 of the uploaded file.
const HASH_META: &str = "cloudbridge-sha256";

pub struct Object;

fn split_id(id: &str) -> (&str, &str) {
    id.split_once('/').unwrap_or((id, ""))
}

impl Object {
    async fn upload(&self, c: &Call<'_>, p: &Props) -> Result<String, ProviderError> {
        let (bucket, key) = (str_prop(p, "bucket").unwrap_or_default(), str_prop(p, "key").unwrap_or_default());
        let source = str_prop(p, "source").unwrap_or_default();
        // Read as validate read it (crate::files): what is uploaded is what was planned.
        let path = c.files.path(source);
        let bytes =
            c.files.project.read(&path, crate::files::MAX_UPLOAD_BYTES).map_err(|d| {
                ProviderError::new("SourceUnreadable", format!("cannot read `{source}`: {}", d.reason()))
            })?;
        let hash = crate::state::sha256_hex(&bytes);
        if str_prop(p, "source_hash") != Some(hash.as_str()) {
            return Err(ProviderError::new(
                "SourceChanged",
                format!("`{source}` changed since the plan was made; run plan again"),
            ));
        }
        c.s3.put_object()
            .bucket(bucket)
            .key(key)
            .body(aws_sdk_s3::primitives::ByteStream::from(bytes))
            .set_content_type(str_prop(p, "content_type").map(String::from))
            .metadata(HASH_META, &hash)
            .send()
            .await?;
        Ok(format!("{bucket}/{key}"))
    }
}

#[async_trait]
impl AwsResource for Object {
    async fn existing_id(&self, _c: &Call<'_>, p: &Props) -> Result<Option<String>, ProviderError> {
        Ok(str_prop(p, "bucket").zip(str_prop(p, "key")).map(|(bucket, key)| format!("{bucket}/{key}")))
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let id = self.upload(c, p).await?;
        Ok(Observed { id, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for id in ids {
            let (bucket, key) = split_id(id);
            let head = match c.s3.head_object().bucket(bucket).key(key).send().await {
                Ok(h) => h,
                Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {
                    out.push(None);
                    continue;
                }
                Err(e) => {
                    let e = ProviderError::from(e);
                    if e.code == "NoSuchBucket" || e.code == "NotFound" {
                        out.push(None);
                        continue;
                    }
                    return Err(e);
                }
            };
            let mut properties = Props::new();
            properties.insert("bucket".into(), json!(bucket));
            properties.insert("key".into(), json!(key));
            if let Some(h) = head.metadata().and_then(|m| m.get(HASH_META)) {
                properties.insert("source_hash".into(), json!(h));
            }
            if let Some(t) = head.content_type() {
                properties.insert("content_type".into(), json!(t));
            }
            let mut attributes = Props::new();
            attributes.insert("id".into(), json!(id));
            attributes.insert("arn".into(), json!(format!("arn:aws:s3:::{id}")));
            attributes.insert("uri".into(), json!(format!("s3://{id}")));
            attributes.insert("etag".into(), json!(head.e_tag()));
            out.push(Some(Observed { id: id.clone(), properties, attributes }));
        }
        Ok(out)
    }

    async fn update(
        &self,
        c: &Call<'_>,
        _id: &str,
        _old: &Props,
        new: &Props,
        _changed: &[String],
    ) -> Result<(), ProviderError> {
        self.upload(c, new).await.map(|_| ())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        let (bucket, key) = split_id(id);
        c.s3.delete_object().bucket(bucket).key(key).send().await?;
        Ok(())
    }
}
