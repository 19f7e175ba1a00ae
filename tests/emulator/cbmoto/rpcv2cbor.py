"""The Smithy RPC v2 CBOR protocol, which moto does not speak: the AWS SDK for Rust calls
CloudWatch with it (`POST /service/GraniteServiceVersion20100801/operation/PutMetricAlarm`,
`smithy-protocol: rpc-v2-cbor`, a CBOR body), as botocore's model lists it first.

A WSGI middleware in front of moto turns such a request into the same call in the
service's JSON protocol (which moto serves), and the answer back into CBOR — both through
botocore's own CBOR parser and serializer and the operation's input and output shapes, so
timestamps, blobs and numbers keep their types. Errors keep their status and code
(`__type`), as an rpc-v2-cbor error body.
"""

import io
import json
import re

PATH = re.compile(r"^/service/([^/]+)/operation/([^/]+)$")

# The services that are called with rpc-v2-cbor, by their signing name.
SERVICES = {"monitoring": "cloudwatch"}


def cbor_map_of_strings(d: dict) -> bytes:
    """A CBOR map of text strings (error bodies need no more)."""

    def head(major: int, n: int) -> bytes:
        if n < 24:
            return bytes([major << 5 | n])
        if n < 256:
            return bytes([major << 5 | 24, n])
        if n < 65536:
            return bytes([major << 5 | 25]) + n.to_bytes(2, "big")
        return bytes([major << 5 | 26]) + n.to_bytes(4, "big")

    out = bytearray(head(5, len(d)))
    for k, v in d.items():
        for s in (k, v):
            b = str(s).encode()
            out += head(3, len(b)) + b
    return bytes(out)


class RpcV2Cbor:
    def __init__(self, app):
        self.app = app
        import botocore.session

        self.session = botocore.session.get_session()
        self.models = {}

    def model(self, service: str):
        """The service's model, and the same model with its JSON protocol chosen."""
        if service not in self.models:
            model = self.session.get_service_model(service)
            self.models[service] = (model, _as_json(model))
        return self.models[service]

    def __call__(self, environ, start_response):
        m = PATH.match(environ.get("PATH_INFO", ""))
        if environ.get("HTTP_SMITHY_PROTOCOL") != "rpc-v2-cbor" or not m:
            return self.app(environ, start_response)
        auth = environ.get("HTTP_AUTHORIZATION", "")
        signing = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", auth)
        service = SERVICES.get(signing.group(1) if signing else "")
        if service is None:
            return self.app(environ, start_response)
        return self.translate(service, m.group(2), environ, start_response)

    def translate(self, service, operation, environ, start_response):
        from botocore.parsers import JSONParser, RpcV2CBORParser
        from botocore.serialize import JSONSerializer, RpcV2CBORSerializer

        model, json_model = self.model(service)
        op = model.operation_model(operation)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        params = {}
        if body and op.input_shape is not None:
            parsed = RpcV2CBORParser().parse({"body": body, "headers": {}, "status_code": 200}, op.input_shape)
            params = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
        # The JSON protocol's request, as botocore would send it.
        request = JSONSerializer().serialize_to_request(params, json_model.operation_model(operation))
        inner = dict(environ)
        data = request["body"] if isinstance(request["body"], bytes) else request["body"].encode()
        inner["wsgi.input"] = io.BytesIO(data)
        inner["CONTENT_LENGTH"] = str(len(data))
        inner["CONTENT_TYPE"] = request["headers"]["Content-Type"]
        inner["HTTP_X_AMZ_TARGET"] = request["headers"]["X-Amz-Target"]
        inner["PATH_INFO"] = "/"
        inner.pop("HTTP_SMITHY_PROTOCOL", None)
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers

        answer = b"".join(self.app(inner, capture))
        code = int(captured["status"].split()[0])
        headers = {k.lower(): v for k, v in captured["headers"]}
        if code >= 300:
            try:
                err = json.loads(answer or b"{}")
            except ValueError:
                err = {}
            kind = (err.get("__type") or headers.get("x-amzn-errortype") or "InternalFailure").split("#")[-1]
            kind = kind.split(":")[0]
            out = cbor_map_of_strings({"__type": kind, "message": err.get("message") or err.get("Message") or ""})
        elif op.output_shape is None:
            out = b""
        else:
            parsed = JSONParser().parse(
                {"body": answer or b"{}", "headers": headers, "status_code": code}, op.output_shape
            )
            parsed.pop("ResponseMetadata", None)
            buf = bytearray()
            RpcV2CBORSerializer()._serialize_data_item(buf, parsed, op.output_shape)
            out = bytes(buf)
        start_response(
            captured["status"],
            [
                ("Content-Type", "application/cbor"),
                ("smithy-protocol", "rpc-v2-cbor"),
                ("Content-Length", str(len(out))),
                ("x-amzn-RequestId", headers.get("x-amzn-requestid", "cbor")),
            ],
        )
        return [out]


def _as_json(model):
    """The service model with the JSON protocol chosen (the model lists it as supported)."""
    from botocore.model import ServiceModel

    desc = dict(model._service_description)
    meta = dict(desc["metadata"])
    meta["protocol"] = "json"
    meta.setdefault("jsonVersion", "1.0")
    desc["metadata"] = meta
    return ServiceModel(desc, model.service_name)
