from .responses import MwaaResponse

url_bases = [r"https?://airflow\.(.+)\.amazonaws\.com"]

url_paths = {
    "{0}/environments$": MwaaResponse.dispatch,
    "{0}/environments/(?P<name>[^/]+)$": MwaaResponse.dispatch,
    "{0}/tags/(?P<arn>.+)$": MwaaResponse.dispatch,
}
