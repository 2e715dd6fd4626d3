"""airkube: deploy Apache Airflow 3 with the KubernetesExecutor."""
