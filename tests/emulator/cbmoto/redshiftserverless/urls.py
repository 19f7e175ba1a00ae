from .responses import RedshiftServerlessResponse

url_bases = [r"https?://redshift-serverless\.(.+)\.amazonaws\.com"]

url_paths = {"{0}/$": RedshiftServerlessResponse.dispatch}
