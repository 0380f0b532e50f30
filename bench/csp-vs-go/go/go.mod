module otlpd/bench/csp-vs-go

go 1.19
