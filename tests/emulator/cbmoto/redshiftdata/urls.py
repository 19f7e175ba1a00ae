from .responses import RedshiftDataResponse

url_bases = [r"https?://redshift-data\.(.+)\.amazonaws\.com"]

url_paths = {"{0}/$": RedshiftDataResponse.dispatch}
