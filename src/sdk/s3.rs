//! S3 bucket set-up shared by the `aws.s3.bucket` type and the state backend's `init`:
//! one way to create a bucket in a region and to set versioning, default encryption and
//! the public access block.

use crate::provider::ProviderError;
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, PublicAccessBlockConfiguration,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    VersioningConfiguration,
};
use aws_sdk_s3::Client;

fn bad_input(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::new("InvalidInput", e.to_string())
}

/// `CreateBucket`, with the location constraint every region but us-east-1 needs.
pub async fn create_bucket(c: &Client, name: &str, region: &str) -> Result<(), ProviderError> {
    let mut req = c.create_bucket().bucket(name);
    if region != "us-east-1" {
        let conf =
            CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(region)).build();
        req = req.create_bucket_configuration(conf);
    }
    req.send().await?;
    Ok(())
}

pub async fn put_versioning(c: &Client, name: &str, on: bool) -> Result<(), ProviderError> {
    let status = if on { BucketVersioningStatus::Enabled } else { BucketVersioningStatus::Suspended };
    let conf = VersioningConfiguration::builder().status(status).build();
    c.put_bucket_versioning().bucket(name).versioning_configuration(conf).send().await?;
    Ok(())
}

/// Default encryption: `AES256` or `aws:kms` (with the key, if given).
pub async fn put_encryption(
    c: &Client,
    name: &str,
    algorithm: &str,
    kms_key: Option<&str>,
) -> Result<(), ProviderError> {
    let default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::from(algorithm))
        .set_kms_master_key_id(kms_key.map(str::to_string))
        .build()
        .map_err(bad_input)?;
    let rule = ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(default).build();
    let conf = ServerSideEncryptionConfiguration::builder().rules(rule).build().map_err(bad_input)?;
    c.put_bucket_encryption().bucket(name).server_side_encryption_configuration(conf).send().await?;
    Ok(())
}

/// All four public access blocks on (or off).
pub async fn put_public_access_block(c: &Client, name: &str, block: bool) -> Result<(), ProviderError> {
    let conf = PublicAccessBlockConfiguration::builder()
        .block_public_acls(block)
        .ignore_public_acls(block)
        .block_public_policy(block)
        .restrict_public_buckets(block)
        .build();
    c.put_public_access_block().bucket(name).public_access_block_configuration(conf).send().await?;
    Ok(())
}
