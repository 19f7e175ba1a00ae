"""The Redshift Data API over the JSON 1.1 protocol (X-Amz-Target: RedshiftData.*)."""

import json

from moto.core.responses import BaseResponse

from .models import RedshiftDataBackend, redshiftdata_backends


class RedshiftDataResponse(BaseResponse):
    def __init__(self) -> None:
        super().__init__(service_name="redshift-data")

    @property
    def backend(self) -> RedshiftDataBackend:
        return redshiftdata_backends[self.current_account][self.region]

    @property
    def params(self) -> dict:
        return json.loads(self.body or "{}")

    def execute_statement(self) -> str:
        p = self.params
        return json.dumps(self.backend.submit(p, [p["Sql"]], batch=False).submitted())

    def batch_execute_statement(self) -> str:
        p = self.params
        return json.dumps(self.backend.submit(p, p["Sqls"], batch=True).submitted())

    def describe_statement(self) -> str:
        return json.dumps(self.backend.describe(self.params["Id"]))

    def cancel_statement(self) -> str:
        return json.dumps({"Status": self.backend.cancel(self.params["Id"])})

    def list_statements(self) -> str:
        return json.dumps({"Statements": self.backend.list_statements(self.params)})

    def list_schemas(self) -> str:
        return json.dumps({"Schemas": self.backend.list_schemas(self.params)})

    def list_tables(self) -> str:
        return json.dumps({"Tables": self.backend.list_tables(self.params)})
