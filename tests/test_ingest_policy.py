"""Input policy: unsorted rows, duplicates, gaps, irregular steps, target width (README, "Input policy")."""

import io

import numpy as np
import pytest

from ingest.pipeline import resample_scanlines

pytestmark = pytest.mark.django_db(transaction=True)


def upload(client, path, **fields):
    with open(path, "rb") as f:
        return client.post("/api/v1/images", {"file": f, **fields})


def values_of(client, image_id) -> np.ndarray:
    """Stored values, NaN for nodata (through the npy region endpoint)."""
    response = client.get(f"/api/v1/images/{image_id}/data/region.npy")
    assert response.status_code == 200, response.content
    return np.load(io.BytesIO(response.content)).astype(float)


def test_policy_unsorted_rows_are_sorted(client, write_csv):
    image = upload(client, write_csv(["depth,col1,col2", "1.2,5,6", "1.0,1,2", "1.1,3,4"])).json()
    assert image["status"] == "succeeded"
    assert image["depth_min"] == 1.0
    np.testing.assert_array_equal(values_of(client, image["id"]), [[1, 2], [3, 4], [5, 6]])


def test_policy_gap_becomes_nodata_rows(client, write_csv):
    image = upload(client, write_csv(["depth,col1", "1.0,1", "1.1,2", "1.4,5"])).json()
    assert image["rows"] == 5
    values = values_of(client, image["id"])[:, 0]
    assert values[0] == 1 and values[1] == 2 and values[4] == 5 and np.isnan(values[2:4]).all()


def test_policy_duplicate_depth_is_422_naming_both_lines(client, write_csv):
    response = upload(client, write_csv(["depth,col1", "1.0,1", "1.1,2", "1.2,3", "1.1,9"]))
    assert response.status_code == 422
    error = response.json()["error"]
    assert "appears twice" in error["message"]
    assert "line 3 and line 5" in error["message"]
    assert error["line"] == 5


@pytest.mark.parametrize(("policy", "expected"), [("first", 2), ("last", 10), ("mean", 6)])
def test_policy_on_duplicate(client, write_csv, policy, expected):
    path = write_csv(["depth,col1,col2", "1.0,1,1", "1.1,2,", "1.2,3,3", "1.1,10,7"])
    image = upload(client, path, on_duplicate=policy).json()
    assert image["status"] == "succeeded", image
    assert image["options"]["on_duplicate"] == policy
    values = values_of(client, image["id"])
    assert values.shape == (3, 2)
    assert values[1, 0] == expected
    # col2 of the first 1.1 line is empty: mean and last take the other's 7, first keeps nodata
    assert np.isnan(values[1, 1]) if policy == "first" else values[1, 1] == 7


def test_policy_irregular_step_is_422_unless_resample(client, write_csv):
    lines = ["depth,col1", "1.00,1", "1.10,2", "1.20,3", "1.33,4", "1.40,5", "1.50,6"]
    response = upload(client, write_csv(lines))
    assert response.status_code == 422
    assert "not a whole number of steps" in response.json()["error"]["message"]
    assert "line 5" in response.json()["error"]["message"]
    image = upload(client, write_csv(lines), resample="true").json()
    assert image["status"] == "succeeded"
    assert image["rows"] == 6 and image["depth_step"] == pytest.approx(0.1)
    np.testing.assert_array_equal(values_of(client, image["id"])[:, 0], [1, 2, 3, 4, 5, 6])


def test_policy_resample_collisions_follow_on_duplicate(client, write_csv):
    lines = ["depth,col1", "1.00,10", "1.10,20", "1.12,40", "1.20,30", "1.30,50"]
    assert upload(client, write_csv(lines), resample="true").status_code == 422
    image = upload(client, write_csv(lines), resample="true", on_duplicate="mean").json()
    np.testing.assert_array_equal(values_of(client, image["id"])[:, 0], [10, 30, 30, 50])


def test_policy_target_width_area_average(client, write_csv):
    cols = ",".join(f"col{i}" for i in range(1, 5))
    image = upload(
        client, write_csv([f"depth,{cols}", "1.0,10,20,30,40", "1.1,10,,30,40"]), target_width="2"
    ).json()
    assert image["columns"] == 2
    np.testing.assert_array_equal(values_of(client, image["id"]), [[15, 35], [10, 35]])


def test_policy_sample_resized_to_150_columns(client, sample_csv, sample_reference):
    _, values = sample_reference
    image = upload(client, sample_csv, target_width="150").json()
    assert (image["rows"], image["columns"]) == (5460, 150)
    stored = values_of(client, image["id"])
    expected = np.rint(resample_scanlines(values.astype(np.float32), 150))
    np.testing.assert_array_equal(stored, expected)
    # 200 -> 150: output column 0 is 3/4 of input column 0 and 1/4 of column 1 (area weights)
    np.testing.assert_allclose(stored[:, 0], np.rint(values[:, 0] * 0.75 + values[:, 1] * 0.25), atol=1)


def test_policy_same_bytes_other_options_is_another_image(client, sample_csv):
    first = upload(client, sample_csv).json()
    again = upload(client, sample_csv)
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    other = upload(client, sample_csv, target_width="150")
    assert other.status_code == 202 and other.json()["id"] != first["id"]


def test_resample_scanlines_exact_weights():
    values = np.array([[0, 30, 60], [np.nan, np.nan, 60]], np.float32)
    out = resample_scanlines(values, 2)
    # column 0 covers input [0, 1.5): (0*1 + 30*0.5) / 1.5 = 10; column 1: (30*0.5 + 60) / 1.5 = 50
    np.testing.assert_allclose(out[0], [10, 50], rtol=1e-6)
    assert np.isnan(out[1, 0]) and out[1, 1] == 60
