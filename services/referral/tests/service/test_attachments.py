"""Answers' files: uploaded by the unit handling the letter while it is in
hand, kept under their content's SHA-256 (in a directory, or an
S3-compatible store: moto's S3 server over HTTP here), named by the answer,
read back by the letter's readers; a file the answer names must have been
uploaded to that letter."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from kit.errors import NotFound
from liaison.referral.v1 import referral_pb2 as pb
from referral.files import CorruptFile, LocalFileStore, S3FileStore

pytestmark = [pytest.mark.postgres]

PDF = b"%PDF-1.4\n" + "关于外墙维修的答复".encode() * 50


def in_hand(api: Any, open_letter: Any) -> int:
    letter_id = open_letter()
    api.as_("street-committee").DecideJurisdiction(
        pb.DecideJurisdictionRequest(letter_id=letter_id, route=pb.ROUTE_DISTRICT)
    )
    api.as_("working-body").ReviewLetter(pb.ReviewLetterRequest(letter_id=letter_id, accept=True))
    api.as_("standing-committee-office").DispatchLetter(
        pb.DispatchLetterRequest(letter_id=letter_id)
    )
    api.as_("government-office").AssignLetter(
        pb.AssignLetterRequest(letter_id=letter_id, lead_department_id=52)
    )
    api.as_("department").AcknowledgeLetter(pb.AcknowledgeLetterRequest(letter_id=letter_id))
    return letter_id


def upload(api: Any, who: Any, letter_id: int, content: bytes = PDF, **fields: Any) -> Any:
    values = {"filename": "答复函.pdf", "content_type": "application/pdf"} | fields
    return api.as_(who).UploadAttachment(
        pb.UploadAttachmentRequest(letter_id=letter_id, content=content, **values)
    )


def status_of(call: Any) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value.code()  # type: ignore[no-any-return]


def test_a_file_attached_named_by_the_answer_and_read_back(api: Any, open_letter: Any) -> None:
    letter_id = in_hand(api, open_letter)
    got = upload(api, "department", letter_id)
    assert got.sha256 == hashlib.sha256(PDF).hexdigest() and got.size == len(PDF)
    assert got.uploaded_by.id == 52
    assert upload(api, "department", letter_id).sha256 == got.sha256  # once, however often
    answered = api.as_("department").AnswerLetter(
        pb.AnswerLetterRequest(letter_id=letter_id, text="详见附件", attachments=[got.sha256])
    )
    assert list(answered.answers[0].attachments) == [got.sha256]
    letter = api.as_("street-committee").GetLetter(pb.GetLetterRequest(id=letter_id))
    assert [a.filename for a in letter.attachments] == ["答复函.pdf"]
    back = api.as_("street-committee").GetAttachment(
        pb.GetAttachmentRequest(letter_id=letter_id, sha256=got.sha256)
    )
    assert back.content == PDF and back.attachment.content_type == "application/pdf"
    # Another street's committee may not read it.
    other = {"sub": "test:sc2", "role": "street_committee", "street_id": 2}
    assert (
        status_of(
            lambda: api.as_(other).GetAttachment(
                pb.GetAttachmentRequest(letter_id=letter_id, sha256=got.sha256)
            )
        )
        is grpc.StatusCode.PERMISSION_DENIED
    )
    # Answered: no more files.
    assert status_of(lambda: upload(api, "department", letter_id, b"late")) is (
        grpc.StatusCode.FAILED_PRECONDITION
    )


def test_bad_files_and_answers_naming_files_not_uploaded_change_nothing(
    api: Any, open_letter: Any
) -> None:
    letter_id = in_hand(api, open_letter)
    for fields, content in (
        ({"filename": ""}, PDF),
        ({"filename": "../../etc/passwd"}, PDF),
        ({"content_type": "not a type"}, PDF),
        ({}, b""),
        ({}, b"x" * (64 * 1024 + 1)),  # past this service's limit
    ):
        assert status_of(
            lambda c=content, f=fields: upload(api, "department", letter_id, c, **f)  # type: ignore[misc]
        ) is (grpc.StatusCode.INVALID_ARGUMENT)
    # A unit that does not handle the letter may not attach to it.
    transport = {"sub": "test:transport", "role": "department", "unit_id": 53}
    assert status_of(lambda: upload(api, transport, letter_id)) is grpc.StatusCode.PERMISSION_DENIED
    never = hashlib.sha256(b"never uploaded").hexdigest()
    with pytest.raises(grpc.RpcError) as caught:
        api.as_("department").AnswerLetter(
            pb.AnswerLetterRequest(letter_id=letter_id, text="答复", attachments=[never])
        )
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "not uploaded" in str(caught.value.debug_error_string())
    letter = api.as_("department").GetLetter(pb.GetLetterRequest(id=letter_id))
    assert letter.stage == pb.LETTER_STAGE_IN_HAND and not letter.answers
    assert list(letter.attachments) == []


def test_the_local_store_refuses_a_file_changed_behind_its_back(tmp_path: Any) -> None:
    store = LocalFileStore(tmp_path)
    sha = store.put(b"original", "text/plain")
    assert store.get(sha) == b"original"
    next(tmp_path.rglob(sha)).write_bytes(b"tampered")
    with pytest.raises(CorruptFile):
        store.get(sha)
    with pytest.raises(NotFound):
        store.get("0" * 64)


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    """moto's S3-compatible server, a real HTTP server on a free port."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def test_the_s3_store_over_http(s3_url: str) -> None:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=s3_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    client.create_bucket(Bucket="liaison-files")
    store = S3FileStore("liaison-files", client=client)
    sha = store.put(PDF, "application/pdf")
    assert sha == hashlib.sha256(PDF).hexdigest()
    assert store.get(sha) == PDF
    head = client.head_object(Bucket="liaison-files", Key=f"referral/{sha}")
    assert head["ContentType"] == "application/pdf"
    with pytest.raises(NotFound):
        store.get("0" * 64)
    client.put_object(Bucket="liaison-files", Key=f"referral/{'1' * 64}", Body=b"x")
    with pytest.raises(CorruptFile):
        store.get("1" * 64)
