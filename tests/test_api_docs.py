"""The OpenAPI schema at /api/schema and Swagger UI at /api/docs (no CDN)."""

import re

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

#: Every API route, as the schema names it.
API_PATHS = [
    "/api/v1/",
    "/api/v1/images",
    "/api/v1/images/{id}",
    "/api/v1/images/{id}/tiles/{z}/{x}/{y}.{fmt}",
    "/api/v1/images/{id}/tiles/{z}/{x}/{y}/corners",
    "/api/v1/images/{id}/tiles/metadata",
    "/api/v1/images/{id}/data/region.{fmt}",
    "/api/v1/images/{id}/data/thumbnail.{fmt}",
    "/api/v1/images/{id}/data/pixel",
    "/api/v1/images/{id}/data/histogram",
    "/api/v1/images/{id}/info/metadata",
    "/api/v1/images/{id}/info/metadata_internal",
    "/api/v1/images/{id}/info/bands",
    "/api/v1/images/{id}/info/band",
    "/api/v1/images/{id}/info/frames",
    "/api/v1/images/{id}/info/tiffdump",
    "/api/v1/colormaps",
    "/api/v1/colormaps/{name}.png",
    "/upload-csv/",
    "/get-images/{depth_min}/{depth_max}/",
    "/healthz",
    "/readyz",
]


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema?format=json")
    assert response.status_code == 200, response.content[:300]
    return response.json()


def parameters(schema, path: str, method: str = "get") -> dict[str, dict]:
    return {p["name"]: p for p in schema["paths"][path][method].get("parameters", [])}


def test_api_schema_is_openapi_3_with_every_route(schema):
    assert schema["openapi"].startswith("3.")
    missing = [path for path in API_PATHS if path not in schema["paths"]]
    assert missing == []
    assert set(schema["paths"]["/upload-csv/"]) == {"post"}
    assert set(schema["paths"]["/api/v1/images"]) == {"get", "post"}


def test_api_schema_parameters_state_units(schema):
    region = parameters(schema, "/api/v1/images/{id}/data/region.{fmt}")
    assert "depth unit" in region["depth_min"]["description"]
    assert "depth unit" in region["depth_max"]["description"]
    for name in ("top", "bottom", "left", "right", "width", "height", "max_width", "max_height"):
        assert "pixels" in region[name]["description"], name
    assert region["fmt"]["schema"]["enum"] == ["png", "jpeg", "jpg", "webp", "tiff", "tif", "npy"]
    assert region["id"]["schema"]["type"] == "integer"
    tile = parameters(schema, "/api/v1/images/{id}/tiles/{z}/{x}/{y}.{fmt}")
    assert "coarsest" in tile["z"]["description"]
    assert tile["fmt"]["schema"]["enum"] == ["png", "jpeg", "jpg", "webp"]
    assert "palette" in tile
    frames = parameters(schema, "/get-images/{depth_min}/{depth_max}/")
    assert frames["depth_min"]["in"] == "path"
    assert frames["depth_min"]["schema"]["type"] == "number"
    assert "depth unit" in frames["depth_min"]["description"]
    assert {"colormap", "image", "frame_rows"} <= set(frames)
    assert "pixels" in frames["frame_rows"]["description"]
    pixel = parameters(schema, "/api/v1/images/{id}/data/pixel")
    assert "unit" in pixel["depth"]["description"]


def test_api_schema_describes_the_error_shape(schema):
    error = schema["components"]["schemas"]["Error"]
    body = error["properties"]["error"]
    assert body["required"] == ["code", "message"]
    assert {"line", "column", "fields"} <= set(body["properties"])
    ref = {"$ref": "#/components/schemas/Error"}

    def error_schema(path, method, status):
        return schema["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]

    assert error_schema("/upload-csv/", "post", "422") == ref
    assert error_schema("/api/v1/images", "post", "413") == ref
    assert error_schema("/get-images/{depth_min}/{depth_max}/", "get", "404") == ref
    assert error_schema("/get-images/{depth_min}/{depth_max}/", "get", "400") == ref
    assert error_schema("/api/v1/images/{id}/tiles/{z}/{x}/{y}.{fmt}", "get", "409") == ref
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            parameters = operation.get("parameters", [])
            if any(p["in"] == "query" for p in parameters) or "requestBody" in operation:
                assert "400" in operation["responses"], (method, path)
            if parameters and path not in ("/healthz", "/readyz"):  # gunicorn's page for a long URL
                assert "text/html" in operation["responses"]["414"]["content"], (method, path)
    assert "400" not in schema["paths"]["/api/v1/"]["get"]["responses"]  # nothing to validate
    assert "413" not in schema["paths"]["/api/v1/images"]["get"]["responses"]


def test_api_schema_responses_of_the_classic_api(schema):
    frames = schema["paths"]["/get-images/{depth_min}/{depth_max}/"]["get"]["responses"]["200"]
    ref = frames["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "images" in schema["components"]["schemas"][ref]["properties"]
    upload = schema["paths"]["/upload-csv/"]["post"]
    assert {"200", "202"} <= set(upload["responses"])
    assert "multipart/form-data" in upload["requestBody"]["content"]


def test_api_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert out.read_text().startswith("openapi: 3.")


def test_api_docs_serve_swagger_ui_from_local_static_files(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "SwaggerUIBundle" in html
    assert '"/api/schema"' in html
    # Nothing from another host: no absolute or protocol-relative URL anywhere.
    assert re.findall(r"(?:https?:)?//[\w.-]+\.\w+", html) == []
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 4  # favicon, CSS, bundle, preset
    assert any(url.endswith("swagger-ui-bundle.js") for url in assets)
    for url in assets:
        assert url.startswith("/static/"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        content = b"".join(asset.streaming_content) if asset.streaming else asset.content
        asset.close()
        assert len(content) > 500, url
