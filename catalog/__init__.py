"""mcp-catalog: crawl MCP servers, classify their tools, recommend gateway policies."""
