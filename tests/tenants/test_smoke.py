def test_me(api_a, tenant_a):
    response = api_a.get("/api/v1/me")
    assert response.status_code == 200, response.content
    assert response.json()["tenant_slug"] == "alpha"
