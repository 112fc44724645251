module market-runtime/go-client

go 1.19
