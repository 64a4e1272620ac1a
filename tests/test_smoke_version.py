def test_version_is_plain_text(client):
    response = client.get("/version")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain"
    assert response.content == b"1.0.0"
