"""A real MCP client (the official Python SDK) driving `tenet mcp` over stdio.

Usage: mcp_client.py TENET_BINARY DATABASE_URL CONFIG CALLS_JSON [SERVER_ARGS_JSON]
CALLS_JSON is a list of [tool, arguments]; SERVER_ARGS_JSON more arguments for `tenet mcp`.
Prints one JSON object: the server's instructions, the tool names it lists, each tool's
annotations and input schema, and per call whether it was an error and its text.
"""
import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def main() -> None:
    tenet, url, config, calls = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    extra = json.loads(sys.argv[5]) if len(sys.argv) > 5 else []
    params = StdioServerParameters(
        command=tenet, args=["mcp", "--url", url, "--config", config, *extra]
    )
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            listed = await session.list_tools()
            out = {
                "instructions": init.instructions or "",
                "tools": sorted(t.name for t in listed.tools),
                # As on the wire (camelCase), whatever the SDK version names its attributes.
                "tool_info": {
                    t.name: t.model_dump(mode="json", by_alias=True, exclude_none=True)
                    for t in listed.tools
                },
                "calls": [],
            }
            for name, arguments in calls:
                result = await session.call_tool(name, arguments)
                text = "".join(getattr(c, "text", "") for c in result.content)
                is_error = getattr(result, "is_error", None)
                if is_error is None:
                    is_error = getattr(result, "isError", False)
                out["calls"].append({"tool": name, "error": bool(is_error), "text": text})
            print(json.dumps(out))


asyncio.run(main())
