"""A whole Session over the real litellm HTTP path against the loopback server: provider trouble
ends as a retried success or a clear error node, and the run survives it."""

from __future__ import annotations

from toys import Counter, react

from workbench import Session


def test_agent_steps_over_real_http(server, server_model):
    server.responder = lambda body: react("inc")
    s = Session(env=Counter(), model=server_model)
    nodes = s.run()
    assert [n.observation for n in nodes] == ["n=1", "n=2", "n=3"] and s.tree.outcome == "success"
    assert len(server.requests) == 3
    first = server.requests[0]["messages"]
    assert first[0]["role"] == "system" and "count to 3" in first[0]["content"]
    assert first[-1]["content"] == "Observation:\nn=0"
    assert all(n.llm_calls[0].prompt_tokens > 0 for n in nodes)


def test_rate_limit_and_server_error_are_retried_within_the_step(server, server_model):
    server.script({"status": 429}, {"status": 500}, {"text": react("inc")})
    s = Session(env=Counter(), model=server_model)
    node = s.step()
    assert node.observation == "n=1" and node.llm_calls[0].attempts == 3


def test_exhausted_retries_become_an_error_node_and_the_run_goes_on(server, server_model):
    server.script({"status": 500}, {"status": 500}, {"status": 500})
    server.responder = lambda body: react("inc")
    s = Session(env=Counter(), model=server_model)
    nodes = s.run()
    assert len(nodes) == 1 and nodes[0].status == "error" and s.status == "error"
    assert nodes[0].info["error_type"] == "ProviderError" and nodes[0].llm_calls[0].attempts == 3
    assert s.tree.cursor == 0
    assert [n.observation for n in s.run()] == ["n=1", "n=2", "n=3"]


def test_malformed_body_is_retried(server, server_model):
    server.script({"malformed": True}, {"text": react("inc")})
    node = Session(env=Counter(), model=server_model).step()
    assert node.observation == "n=1" and node.llm_calls[0].attempts == 2


def test_slow_answers_time_out_into_an_error_node(server):
    from workbench import Model

    model = Model(
        "openai/loopback", api_base=server.url, api_key=server.api_key, max_retries=1, backoff=0, timeout=0.5
    )
    server.script({"delay": 30, "text": react("inc")}, {"delay": 30, "text": react("inc")})
    try:
        node = Session(env=Counter(), model=model).step()
    finally:
        server.release()
    assert node.status == "error" and node.info["error_type"] == "ModelTimeoutError"
    assert "timed out" in node.error or "timeout" in node.error.lower()


def test_bad_key_is_an_error_node_that_says_which_variable_to_set(server):
    from workbench import Model

    model = Model("openai/loopback", api_base=server.url, api_key="sk-wrong-key-123", max_retries=0)
    server.script({"status": 401})
    node = Session(env=Counter(), model=model).step()
    assert node.info["error_type"] == "AuthenticationError" and "OPENAI_API_KEY" in node.error
    assert "sk-wrong-key-123" not in node.error
