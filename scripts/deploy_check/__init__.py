"""scripts/check-deploy.sh's checker: python3 -m deploy_check ROOT BIN STATIC NS (see check-deploy.sh)."""
