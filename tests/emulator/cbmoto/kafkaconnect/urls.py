from .responses import KafkaConnectResponse

url_bases = [r"https?://kafkaconnect\.(.+)\.amazonaws\.com"]

url_paths = {
    "{0}/v1/custom-plugins$": KafkaConnectResponse.dispatch,
    "{0}/v1/custom-plugins/(?P<arn>.+)$": KafkaConnectResponse.dispatch,
    "{0}/v1/worker-configurations$": KafkaConnectResponse.dispatch,
    "{0}/v1/worker-configurations/(?P<arn>.+)$": KafkaConnectResponse.dispatch,
    "{0}/v1/connectors$": KafkaConnectResponse.dispatch,
    "{0}/v1/connectors/(?P<arn>.+)$": KafkaConnectResponse.dispatch,
    "{0}/v1/tags/(?P<arn>.+)$": KafkaConnectResponse.dispatch,
}
