"""Alert hygiene: lint Prometheus rules, suggest the rules the talk's incident lacked."""
