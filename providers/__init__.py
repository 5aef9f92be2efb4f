"""Cloud providers shipped with cloud-lb, one package per cloud."""
