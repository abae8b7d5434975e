#!/bin/sh
# One-shot (compose service minio-init): the media bucket, private, and the
# app's own key (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) that may read and
# write that bucket only. Idempotent: run at every `docker compose up`.
set -eu
mc alias set local http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null
mc mb --ignore-existing "local/$MEDIA_S3_BUCKET"
mc anonymous set none "local/$MEDIA_S3_BUCKET"
policy=/tmp/jinshao-media.json
cat > "$policy" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
     "Resource": ["arn:aws:s3:::$MEDIA_S3_BUCKET"]},
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
     "Resource": ["arn:aws:s3:::$MEDIA_S3_BUCKET/*"]}
  ]
}
JSON
mc admin policy create local jinshao-media "$policy"
mc admin user add local "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"
mc admin policy attach local jinshao-media --user "$AWS_ACCESS_KEY_ID" 2>/dev/null || true
echo "media bucket $MEDIA_S3_BUCKET ready"
