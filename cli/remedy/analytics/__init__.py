"""Log analytics: which logs each remediation covers, what it prevented, and the unaddressed failures."""
