#!/usr/bin/env python3
"""Drives the `--web` dashboard in headless Chromium through Selenium, as a person would: the page of a
run that waits for a start, Start with users and spawn rate, the numbers update, Change users (a new
stage), Stop, then the downloads. Prints `browser-ok` on success; exits 3 when selenium or chromedriver
is missing.

usage: browser_check.py BASE_URL OUT_DIR CHROMEDRIVER CHROMIUM
"""
import json
import os
import sys
import time

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
except ImportError:
    print("skip: selenium is not installed (scripts/install-test-deps.sh installs it)")
    sys.exit(3)


def wait(label, condition, timeout=60):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        try:
            last = condition()
            if last:
                print(f"{label}: ok")
                return last
        except Exception as error:  # the page may be mid-redraw
            last = error
        time.sleep(0.2)
    raise SystemExit(f"FAILED waiting for {label} (last: {last!r})")


def main():
    base, out, driver_path, chromium = sys.argv[1:5]
    os.makedirs(out, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,2000"]:
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": out, "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": out})
        driver.get(base + "/")
        text = lambda i: driver.find_element(By.ID, i).text
        phase = lambda: driver.find_element(By.TAG_NAME, "body").get_attribute("data-phase")
        wait("page waits for a start", lambda: phase() == "waiting" and driver.find_element(By.ID, "start").is_displayed()
             and not driver.find_element(By.ID, "stop").is_displayed())

        users = driver.find_element(By.ID, "start-users")
        users.clear()
        users.send_keys("2")
        rate = driver.find_element(By.ID, "start-rate")
        rate.clear()
        rate.send_keys("50")
        driver.find_element(By.ID, "start").click()
        wait("run is running", lambda: phase() == "running")
        wait("the start form is gone, the run's controls shown",
             lambda: not driver.find_element(By.ID, "start").is_displayed() and driver.find_element(By.ID, "stop").is_displayed())
        wait("requests finish", lambda: text("f-finished").isdigit() and int(text("f-finished")) > 0)
        wait("2 users", lambda: text("f-users") == "2")
        first = int(text("f-finished"))
        wait("numbers update", lambda: int(text("f-finished")) > first)
        wait("charts drawn", lambda: len(driver.find_elements(By.CSS_SELECTOR, "#charts svg.chart")) >= 5)

        change = driver.find_element(By.ID, "change-users")
        change.clear()
        change.send_keys("4")
        driver.find_element(By.ID, "change").click()
        wait("change acknowledged", lambda: "users changed to 4" in text("msg"))
        wait("4 users", lambda: text("f-users") == "4")
        wait("new stage in the log", lambda: "stage 1" in text("log"))
        driver.save_screenshot(os.path.join(out, "dashboard-running.png"))

        driver.find_element(By.ID, "stop").click()
        wait("run finished", lambda: phase() == "finished", timeout=60)
        wait("downloads shown", lambda: driver.find_element(By.ID, "dl-json").is_displayed())
        wait("stats of both stages", lambda: "Stage 1" in text("stats"))
        driver.save_screenshot(os.path.join(out, "dashboard-finished.png"))
        for link in ["dl-json", "dl-csv", "dl-html"]:
            driver.find_element(By.ID, link).click()
        files = {"results.json": "stampede-results.json", "stats.csv": "stampede-stats.csv", "report.html": "stampede-report.html"}
        for name, saved in files.items():
            wait(f"downloaded {name}", lambda: os.path.exists(os.path.join(out, saved)) and os.path.getsize(os.path.join(out, saved)) > 0)
        results = json.load(open(os.path.join(out, files["results.json"])))
        assert results["stop_reason"] == "interrupted", results["stop_reason"]
        assert len(results["stages"]) >= 2, results["stages"]
        assert results["overall"]["requests_finished"] > 0
        header = open(os.path.join(out, files["stats.csv"])).readline()
        assert header.startswith("Type,Name,Request Count,Failure Count"), header
        print(f"results: {results['overall']['requests_finished']} requests, {len(results['stages'])} stages")
        print("browser-ok")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
