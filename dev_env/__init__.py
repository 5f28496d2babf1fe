"""Local environments: Apache Kafka provisioning and start-up, process supervision, kind config."""
