"""Owners: who reviews changes to a remediation, and the CODEOWNERS block that makes GitHub ask them."""
