// The live sampler of lesson 08's course-pack page and deck (classroom/templates/sampler.html.j2): the course
// model runs in the page with ONNX Runtime Web (its wasm backend), exported to ONNX from the shipped weights when
// the pack was built (classroom/browser_model.py). The sampling itself is here, in a few lines that follow
// unet_lessons.sampling: `guidedNoise` is `guided_noise`, `ddimStep` is `ddim_step` with eta = 0.
// tests/browser/test_live_sampler.py checks that a page given PyTorch's starting noise draws ddim_sample's images.
(function () {
  "use strict";
  var BATCH = 10;  // samples per draw, one row
  var SHOWN_SIZE = 64;  // pixels on screen per 32x32 sample
  var here = document.currentScript.src.replace(/[^/]*$/, "");

  // ---- the model ----------------------------------------------------------------------------------------------

  // What went wrong with the model files, said in the page with how to fix it.
  function Problem(message) { this.message = message; }

  var REBUILD = "rebuild the pack with `make site` (or the decks with `make slides`) from the course's repository.";

  async function fetchOk(url, what) {
    var response;
    try {
      response = await fetch(url);
    } catch (error) {
      throw new Problem("Could not read " + what + " (" + error.message + "). If this page is served, " + REBUILD);
    }
    if (!response.ok) {
      throw new Problem(what + " is missing (" + response.status + " for " + url + "): " + REBUILD);
    }
    return response;
  }

  async function sha256Hex(bytes) {
    var digest = await crypto.subtle.digest("SHA-256", bytes);
    return Array.from(new Uint8Array(digest), function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  // The manifest, the ONNX file checked against it, and an ONNX Runtime session; or a Problem.
  async function loadModel(manifestUrl, expectedWeights) {
    if (location.protocol === "file:") {
      throw new Problem("This page was opened as a file, and a browser does not let a page read the model file " +
        "beside it. Serve the folder with any web server, e.g. `python -m classroom.serve build/site` " +
        "(or `python -m http.server` in the folder), and open the page from there.");
    }
    if (typeof window.ort === "undefined") {
      throw new Problem("ONNX Runtime Web (_static/onnxruntime-web/) did not load: " + REBUILD);
    }
    var manifest = await (await fetchOk(manifestUrl, "The model's manifest")).json();
    if (manifest.weights_sha256 !== expectedWeights) {
      throw new Problem("The model file is stale: it was exported from weights " + manifest.weights_sha256.slice(0, 12) +
        "..., but this page was built with " + expectedWeights.slice(0, 12) + "...: " + REBUILD);
    }
    var modelUrl = new URL(manifest.model, new URL(manifestUrl, location.href)).href;
    var bytes = new Uint8Array(await (await fetchOk(modelUrl, "The model file " + manifest.model)).arrayBuffer());
    // crypto.subtle exists on https and on localhost; elsewhere the size is what can be checked.
    var damaged = bytes.length !== manifest.model_bytes ||
      (window.crypto && crypto.subtle && await sha256Hex(bytes) !== manifest.model_sha256);
    if (damaged) {
      throw new Problem("The model file " + manifest.model + " is damaged: its size or SHA-256 differs from the " +
        "manifest's: " + REBUILD);
    }
    ort.env.wasm.wasmPaths = here + "onnxruntime-web/dist/";
    // More than one thread needs a cross-origin isolated page (classroom.serve sends the headers).
    ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
    var session;
    try {
      session = await ort.InferenceSession.create(bytes, {executionProviders: ["wasm"]});
    } catch (error) {
      throw new Problem("ONNX Runtime could not open " + manifest.model + " (" + error.message + "): " + REBUILD);
    }
    var model = {manifest: manifest, session: session, threads: ort.env.wasm.numThreads};
    // One forward pass of a guided step's batch now, so that the first Draw does not also wait for the
    // WebAssembly to be compiled at its full speed.
    var pixels = manifest.channels * manifest.image_size * manifest.image_size;
    await predictNoise(model, new Float32Array(2 * BATCH * pixels), filled(2 * BATCH, 999), filled(2 * BATCH, 0));
    return model;
  }

  // The model's predicted noise for a batch: x [B * pixels], t and y [B] -> [B * pixels].
  async function predictNoise(model, x, t, y) {
    var size = model.manifest.image_size, batch = t.length;
    var feeds = {
      x: new ort.Tensor("float32", x, [batch, model.manifest.channels, size, size]),
      t: new ort.Tensor("int64", BigInt64Array.from(t, BigInt), [batch]),
      y: new ort.Tensor("int64", BigInt64Array.from(y, BigInt), [batch])
    };
    var result = await model.session.run(feeds);
    return result.noise.data;
  }

  // ---- sampling, as unet_lessons.sampling -------------------------------------------------------------------

  function filled(length, value) { return new Array(length).fill(value); }

  // guided_noise: w = 1 is the conditional prediction and w = 0 the unconditional one ("no class"), each one
  // forward pass; any other w runs the conditional and the "no class" halves as one batch of 2B images and mixes
  // them: eps = eps_uncond + w * (eps_cond - eps_uncond).
  async function guidedNoise(model, x, t, label, w) {
    var batch = t.length, noClass = model.manifest.null_class;
    if (w === 1) {
      return predictNoise(model, x, t, filled(batch, label));
    }
    if (w === 0) {
      return predictNoise(model, x, t, filled(batch, noClass));
    }
    var both = new Float32Array(2 * x.length);
    both.set(x);
    both.set(x, x.length);
    var eps = await predictNoise(model, both, t.concat(t), filled(batch, label).concat(filled(batch, noClass)));
    var epsCond = eps.subarray(0, x.length), epsUncond = eps.subarray(x.length);
    var guided = new Float32Array(x.length);
    for (var i = 0; i < x.length; i++) {
      guided[i] = epsUncond[i] + w * (epsCond[i] - epsUncond[i]);
    }
    return guided;
  }

  // ddim_step with eta = 0 (no fresh noise): from x_t at step t to step tPrev (null: to the clean image).
  // Returns [x at tPrev, the x0 estimate].
  function ddimStep(xT, t, tPrev, noisePrediction, alphaBars) {
    var alphaBar = alphaBars[t];
    var alphaBarPrev = tPrev !== null ? alphaBars[tPrev] : 1.0;
    var xPrev = new Float32Array(xT.length), x0 = new Float32Array(xT.length);
    for (var i = 0; i < xT.length; i++) {
      // predict_x0: invert q_sample with the predicted noise, then clip to [-1, 1]
      x0[i] = Math.min(1, Math.max(-1, (xT[i] - Math.sqrt(1 - alphaBar) * noisePrediction[i]) / Math.sqrt(alphaBar)));
      // the noise that leads to the clipped x0
      var eps = (xT[i] - Math.sqrt(alphaBar) * x0[i]) / Math.sqrt(1 - alphaBar);
      // sigma = 0: the point of the same noise path at tPrev
      xPrev[i] = Math.sqrt(alphaBarPrev) * x0[i] + Math.sqrt(Math.max(0, 1 - alphaBarPrev)) * eps;
    }
    return [xPrev, x0];
  }

  // ddim_sample from the given starting noise: `steps` DDIM steps (the schedule's steps for that count, as
  // sampling_steps gives them), class `label`, guidance scale `w`. onStep(i, t, x_t, x0) after every step.
  async function ddimSample(model, noise, label, steps, w, onStep) {
    var walk = model.manifest.sampling_steps[String(steps)];
    var batch = noise.length / (model.manifest.image_size * model.manifest.image_size * model.manifest.channels);
    var x = Float32Array.from(noise);
    for (var i = 0; i < walk.length; i++) {
      var t = walk[i], tPrev = i + 1 < walk.length ? walk[i + 1] : null;
      var eps = await guidedNoise(model, x, filled(batch, t), label, w);
      var next = ddimStep(x, t, tPrev, eps, model.manifest.alpha_bars);
      if (onStep) {
        await onStep(i, t, x, next[1]);
      }
      x = next[0];
    }
    return x.map(function (v) { return Math.min(1, Math.max(-1, v)); });
  }

  // The page's own Gaussian noise for a seed (torch's generator is not reproduced here, so a seed draws other
  // images than in the notebook): mulberry32 for uniforms, Box-Muller for normals.
  function gaussianNoise(seed, length) {
    var state = seed >>> 0, out = new Float32Array(length);
    function uniform() {
      state = (state + 0x6D2B79F5) >>> 0;
      var z = state;
      z = Math.imul(z ^ (z >>> 15), z | 1);
      z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
      return (((z ^ (z >>> 14)) >>> 0) + 1) / 4294967297;  // in (0, 1)
    }
    for (var i = 0; i < length; i += 2) {
      var radius = Math.sqrt(-2 * Math.log(uniform())), angle = 2 * Math.PI * uniform();
      out[i] = radius * Math.cos(angle);
      if (i + 1 < length) {
        out[i + 1] = radius * Math.sin(angle);
      }
    }
    return out;
  }

  // ---- the panel -----------------------------------------------------------------------------------------------

  // Resolves in a new task, so the page can paint; unlike setTimeout(0), which waits 4 ms once nested.
  function nextTask() {
    return new Promise(function (resolve) {
      var channel = new MessageChannel();
      channel.port1.onmessage = function () { channel.port1.close(); resolve(); };
      channel.port2.postMessage(null);
    });
  }

  // One image in [-1, 1] (size x size) as a PNG data URL, grey levels as the lessons show them.
  function imageUrl(values, size) {
    var canvas = document.createElement("canvas");
    canvas.width = canvas.height = size;
    var context = canvas.getContext("2d"), pixels = context.createImageData(size, size);
    for (var i = 0; i < size * size; i++) {
      var grey = Math.round((Math.min(1, Math.max(-1, values[i])) + 1) / 2 * 255);
      pixels.data.set([grey, grey, grey, 255], 4 * i);
    }
    context.putImageData(pixels, 0, 0);
    return canvas.toDataURL();
  }

  function showRow(row, batchValues, size, alt) {
    var pixels = size * size;
    row.replaceChildren.apply(row, Array.from({length: batchValues.length / pixels}, function (_, k) {
      var image = document.createElement("img");
      image.src = imageUrl(batchValues.subarray(k * pixels, (k + 1) * pixels), size);
      image.width = image.height = SHOWN_SIZE;
      image.alt = alt(k);
      return image;
    }));
  }

  function setUp(panel) {
    var control = function (name) { return panel.querySelector("[name='" + name + "']"); };
    var label = control("label"), steps = control("steps"), guidance = control("guidance"), seed = control("seed");
    var draw = control("draw"), frame = control("frame"), progress = panel.querySelector(".course-sampler-progress");
    var status = panel.querySelector(".course-sampler-status"), problem = panel.querySelector(".course-sampler-problem");
    var reverse = panel.querySelector(".course-sampler-reverse");
    var row = function (name) { return panel.querySelector("[data-row='" + name + "']"); };
    var model = null, busy = false, frames = [];
    var broken = null;  // why the model could not be loaded: said for as long as the page is open

    function say(text) { status.textContent = text; }
    function fail(text) { problem.textContent = text; problem.hidden = false; }

    // A seed is a whole number in its range; anything else is said, and Draw waits for a valid one.
    function seedProblem() {
      var value = Number(seed.value);
      return seed.value.trim() !== "" && Number.isInteger(value) && seed.checkValidity() ? null
        : "Seed: type a whole number from " + seed.min + " to " + seed.max + ".";
    }
    function refresh() {
      control("steps-value").value = steps.value;
      control("guidance-value").value = guidance.value;
      var wrong = broken || seedProblem();
      problem.hidden = !wrong;
      problem.textContent = wrong || "";
      draw.disabled = !model || busy || Boolean(wrong);
    }

    function describe(settings) {
      return model.manifest.class_names[settings.label] + ", " + settings.steps + " DDIM steps, w = " +
        settings.guidance + ", seed " + settings.seed;
    }

    function showFrame() {
      var shown = frames[Number(frame.value)], size = model.manifest.image_size;
      control("frame-value").value = (Number(frame.value) + 1) + " of " + frames.length + ": t = " + shown.t;
      showRow(row("x_t"), shown.x, size, function (k) { return "Sample " + (k + 1) + ", x_t at t = " + shown.t; });
      showRow(row("x0"), shown.x0, size, function (k) {
        return "Sample " + (k + 1) + ", predicted x0 at t = " + shown.t;
      });
    }

    // Draw with the panel's settings (or, for the tests, with given starting noise); returns the samples.
    async function run(settings, noise) {
      busy = true;
      refresh();
      frames = [];
      progress.max = settings.steps;
      progress.value = 0;
      var size = model.manifest.image_size, start = performance.now();
      say("Drawing " + BATCH + " samples: " + describe(settings) + "...");
      try {
        var images = await ddimSample(model, noise, settings.label, settings.steps, settings.guidance,
          function (i, t, x, x0) {
            frames.push({t: t, x: x, x0: x0});
            progress.value = i + 1;
            return nextTask();  // the progress bar may paint between steps
          });
        var seconds = (performance.now() - start) / 1000;
        showRow(row("samples"), images, size, function (k) {
          return "Sample " + (k + 1) + " of " + BATCH + ": " + describe(settings);
        });
        frame.max = frames.length - 1;
        frame.value = 0;
        reverse.hidden = false;
        showFrame();
        say(BATCH + " samples, " + describe(settings) + ", drawn in " + seconds.toFixed(1) + " s (" +
          model.threads + (model.threads === 1 ? " thread)." : " threads)."));
        return images;
      } finally {
        busy = false;
        refresh();
      }
    }

    function settingsNow() {
      return {label: Number(label.value), steps: Number(steps.value), guidance: Number(guidance.value),
              seed: Number(seed.value)};
    }

    [label, steps, guidance, seed].forEach(function (element) { element.addEventListener("input", refresh); });
    frame.addEventListener("input", showFrame);
    draw.addEventListener("click", function () {
      var settings = settingsNow(), pixels = model.manifest.image_size * model.manifest.image_size;
      run(settings, gaussianNoise(settings.seed, BATCH * model.manifest.channels * pixels)).catch(function (error) {
        fail("Sampling failed: " + error.message);
      });
    });
    // In a deck, the arrow keys move a focused control, not the slides (reveal.js listens on the document).
    panel.addEventListener("keydown", function (event) {
      if (event.target.matches("select, input") && event.key.indexOf("Arrow") === 0) {
        event.stopPropagation();
      }
    });

    var ready = loadModel(new URL(panel.dataset.manifest, location.href).href, panel.dataset.weightsSha256)
      .then(function (loaded) {
        model = loaded;
        say("The course model is loaded (" + model.threads + (model.threads === 1 ? " thread" : " threads") +
          "). Pick a class and press Draw.");
        refresh();
        return true;
      }, function (error) {
        say("The live sampler is not available.");
        broken = error instanceof Problem ? error.message : "The live sampler could not start: " + error.message;
        refresh();
        return false;
      });
    refresh();
    return {
      ready: ready,
      // For tests and the benchmark: sample from given starting noise ([BATCH * pixels] numbers).
      sample: async function (settings, noise) {
        if (!await ready) {
          throw new Error(problem.textContent);
        }
        return Array.from(await run(Object.assign({seed: "(given noise)"}, settings), Float32Array.from(noise)));
      }
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    var panels = Array.from(document.querySelectorAll(".course-sampler")).map(setUp);
    window.courseSampler = panels[0];
  });
}());
