"""Local environments: Apache Kafka provisioning and start-up, the process supervisor, kind config."""
