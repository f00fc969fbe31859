"""Media on object storage: with MEDIA_S3_BUCKET set, article images and their renditions go to S3 through
django-storages (tested against moto's S3 server on a loopback port) and are served by signed URLs; without it
(the SQLite default, `make run`) uploads stay on disk in MEDIA_ROOT."""

import io
import runpy
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.files.images import ImageFile
from django.core.files.storage import FileSystemStorage, default_storage

BASE_SETTINGS = Path(__file__).resolve().parent.parent.parent / "acuclinic" / "settings" / "base.py"
BUCKET = "acuclinic-media-test"


def png_bytes() -> bytes:
    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.new("RGB", (320, 200), (30, 120, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_default_keeps_uploads_on_disk():
    default_storage.exists("x")  # resolves the lazy storage
    assert isinstance(default_storage._wrapped, FileSystemStorage)


def test_media_s3_bucket_selects_s3_with_private_signed_urls(monkeypatch):
    monkeypatch.setenv("MEDIA_S3_BUCKET", "clinic-media")
    monkeypatch.setenv("MEDIA_S3_ENDPOINT_URL", "https://s3.example.net")
    settings = runpy.run_path(str(BASE_SETTINGS))
    storage = settings["STORAGES"]["default"]
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["bucket_name"] == "clinic-media"
    assert storage["OPTIONS"]["default_acl"] == "private" and storage["OPTIONS"]["querystring_auth"] is True
    assert "https://s3.example.net" in settings["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["img-src"]


@pytest.fixture
def s3(settings, monkeypatch):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "default_acl": "private",
                "querystring_auth": True,
                "file_overwrite": False,
            },
        },
    }
    yield client, endpoint
    server.stop()


@pytest.mark.django_db
def test_an_article_image_and_its_rendition_live_in_the_bucket(s3):
    from wagtail.images.models import Image

    client, endpoint = s3
    content = png_bytes()
    image = Image.objects.create(title="Needles", file=ImageFile(io.BytesIO(content), name="needles.png"))
    keys = {o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}
    assert image.file.name in keys
    assert not Path(image.file.name).is_absolute()

    url = image.file.url
    assert url.startswith(f"{endpoint}/{BUCKET}/") and ("Signature=" in url or "X-Amz-Signature=" in url)
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the local moto server
        assert response.read() == content
    # Without the signature the object is not readable: the bucket is private.
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(url.split("?", 1)[0], timeout=10)  # noqa: S310

    rendition = image.get_rendition("fill-100x100")
    keys = {o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}
    assert rendition.file.name in keys
    assert not default_storage.exists("does-not-exist.png")
