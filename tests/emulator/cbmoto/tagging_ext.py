"""Resource Groups Tagging API: `GetResources` with a `ResourceARNList`, as AWS answers it.

botocore's model: the list takes 1 to 100 ARNs and cannot be combined with
`ResourceTypeFilters`, `TagFilters` or any pagination parameter (`ResourcesPerPage`,
`TagsPerPage`, `PaginationToken`): each is an `InvalidParameterException`. The answer is
one page holding every listed resource that exists and was ever tagged. moto pages such
an answer (20 resources of 5 tags a page) and accepts the forbidden combinations.
"""

from typing import Any

MAX_ARNS = 100
EXCLUSIVE = ("ResourceTypeFilters", "TagFilters", "ResourcesPerPage", "TagsPerPage", "PaginationToken")


def install() -> None:
    from moto.core.responses import ActionResult
    from moto.resourcegroupstaggingapi.exceptions import ResourceGroupsTaggingAPIError
    from moto.resourcegroupstaggingapi.responses import ResourceGroupsTaggingAPIResponse

    original = ResourceGroupsTaggingAPIResponse.get_resources

    def get_resources(self: Any) -> Any:
        arns = self._get_param("ResourceARNList")
        if arns is None:
            return original(self)
        if not 1 <= len(arns) <= MAX_ARNS:
            raise ResourceGroupsTaggingAPIError(
                "InvalidParameterException", f"ResourceARNList must hold 1 to {MAX_ARNS} ARNs"
            )
        for other in EXCLUSIVE:
            if self._get_param(other) not in (None, [], ""):
                raise ResourceGroupsTaggingAPIError(
                    "InvalidParameterException", f"ResourceARNList cannot be used with {other}"
                )
        wanted = set(arns)
        found = [
            r for r in self.backend._get_resources_generator(resource_arn_list=list(wanted)) if r.arn in wanted
        ]
        return ActionResult(
            {
                "ResourceTagMappingList": [
                    {"ResourceARN": r.arn, "Tags": [{"Key": k, "Value": v} for k, v in r.tags.items()]}
                    for r in found
                ],
                "PaginationToken": "",
            }
        )

    ResourceGroupsTaggingAPIResponse.get_resources = get_resources
