// Renders the ipywidgets stored in a page (metadata.widgets of the notebook) with the local Jupyter widgets
// HTML manager, and teaches its output area to draw plotly figures (the explorers' Output widgets store
// them as application/vnd.plotly.v1+json, which the manager alone cannot show). An explorer precomputed at build
// time (classroom/precomputed.py) shows its stored figure for each setting. nbconvert adds this script after the
// page has loaded (widget_renderer_url).
(function () {
  "use strict";
  var PLOTLY_MIME = "application/vnd.plotly.v1+json";
  var PNG_MIME = "image/png";
  var WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json";
  var PRECOMPUTED_MIME = "application/vnd.course.precomputed+json";
  var here = document.currentScript.src.replace(/[^/]*$/, "");
  // Font Awesome's fonts (widget icons) are loaded relative to this path.
  window.__jupyter_widgets_assets_path__ = here + "html-manager/dist/";
  window.require.config({
    paths: {"@jupyter-widgets/html-manager/dist/libembed-amd": here + "html-manager/dist/libembed-amd"}
  });

  // A renderer for plotly outputs: the manager's own HTML renderer, drawing the figure instead of HTML.
  function addPlotlyRenderer(renderMime) {
    var htmlFactory = renderMime.getFactory("text/html");
    renderMime.addFactory({
      safe: true,
      mimeTypes: [PLOTLY_MIME],
      createRenderer: function (options) {
        var renderer = htmlFactory.createRenderer(options);
        renderer.renderModel = function (model) {
          return window.courseDrawPlotlyFigure(renderer.node, model.data[PLOTLY_MIME]);
        };
        return renderer;
      }
    }, 0);
  }

  // A PNG in a widget's output gets the alt text its output stores (unet_lessons.viz.alt_text); the manager's
  // image renderer, like JupyterLab's, leaves the image without one.
  function addImageAlt(renderMime) {
    var factory = renderMime.getFactory(PNG_MIME);
    renderMime.addFactory({
      safe: true,
      mimeTypes: [PNG_MIME],
      createRenderer: function (options) {
        var renderer = factory.createRenderer(options);
        var renderModel = renderer.renderModel.bind(renderer);
        renderer.renderModel = function (model) {
          return renderModel(model).then(function () {
            var image = renderer.node.querySelector("img");
            var alternative = (model.metadata || {})[PNG_MIME] || {};
            if (image) {
              image.alt = alternative.alt || "";
            }
          });
        };
        return renderer;
      }
    }, 0);
  }

  // What the manager leaves out for a keyboard or screen-reader user: a slider's handle is named by the
  // slider's label, and an output area that scrolls can take the focus (so the keyboard can scroll it).
  function completeForKeyboard() {
    document.querySelectorAll(".widget-slider").forEach(function (slider) {
      var label = slider.querySelector(".widget-label");
      var handle = slider.querySelector(".noUi-handle");
      if (label && handle && label.textContent.trim()) {
        handle.setAttribute("aria-label", label.textContent.trim());
      }
    });
    document.querySelectorAll(".widget-output").forEach(function (output) {
      if (output.scrollHeight > output.clientHeight || output.scrollWidth > output.clientWidth) {
        output.tabIndex = 0;
      }
    });
  }

  // A stored explorer is drawn from its saved state and nothing recomputes it here: its controls move, its
  // figures do not. Each one says so, right above it; this is the one place that adds the note.
  var KERNEL_NOTE = "This explorer needs a running kernel: here its controls move, but its figures stay as " +
    "they were stored. Open the notebook in JupyterLab or on Binder to use it.";

  // Where a live sampler (course-sampler.js) is on the page, the note points to it: it needs no kernel.
  var SAMPLER_NOTE = " The live sampler further on runs the course model in your browser, with no kernel.";
  // An explorer whose figures were computed for every setting when the page was built (classroom/precomputed.py).
  var PRECOMPUTED_NOTE = "This explorer's figures were computed for every setting when this page was built: " +
    "move its controls and see them (a slider moves by its stops). In JupyterLab it computes them live.";

  function precomputedTables() {
    return Array.from(document.querySelectorAll('script[type="' + PRECOMPUTED_MIME + '"]'), function (script) {
      return JSON.parse(script.textContent);
    });
  }

  function addKernelNotes(tables) {
    var sampler = document.querySelector(".course-sampler") ? SAMPLER_NOTE : "";
    var precomputed = tables.map(function (table) { return table.explorer; });
    document.querySelectorAll('script[type="' + WIDGET_VIEW_MIME + '"]').forEach(function (view) {
      var note = document.createElement("p");
      note.className = "course-kernel-note";
      note.setAttribute("role", "note");
      note.textContent = precomputed.indexOf(JSON.parse(view.textContent).model_id) >= 0 ? PRECOMPUTED_NOTE
        : KERNEL_NOTE + sampler;
      view.parentElement.insertBefore(note, view.parentElement.firstChild);
    });
  }

  // When a control of a precomputed explorer moves, its output shows the outputs stored for the new setting.
  function connectPrecomputed(manager, tables) {
    tables.forEach(function (table) {
      var controls = table.controls.map(function (control) { return manager.get_model(control.model); });
      Promise.all(controls.concat([manager.get_model(table.output)])).then(function (models) {
        var output = models.pop();
        function show() {
          var key = JSON.stringify(models.map(function (model, i) { return model.get(table.controls[i].attribute); }));
          if (table.outputs[key]) {
            output.set("outputs", table.outputs[key]);
          }
        }
        models.forEach(function (model, i) { model.on("change:" + table.controls[i].attribute, show); });
      });
    });
  }

  // libembed-amd.js defines "@jupyter-widgets/html-manager" too: ask for it once the file has loaded.
  window.require(["@jupyter-widgets/html-manager/dist/libembed-amd"], function (embed) {
    window.require(["@jupyter-widgets/html-manager"], function (htmlManager) {
      var tables = precomputedTables();
      var setState = htmlManager.HTMLManager.prototype.set_state;
      htmlManager.HTMLManager.prototype.set_state = function (state) {
        var manager = this;
        addPlotlyRenderer(manager.renderMime);
        addImageAlt(manager.renderMime);
        return setState.call(manager, state).then(function (models) {
          connectPrecomputed(manager, tables);
          return models;
        });
      };
      var pending = false;  // once per frame, however many nodes the widgets and figures add
      new MutationObserver(function () {
        if (!pending) {
          pending = true;
          window.requestAnimationFrame(function () { pending = false; completeForKeyboard(); });
        }
      }).observe(document.body, {childList: true, subtree: true});
      addKernelNotes(tables);
      embed.renderWidgets();
    });
  });
}());
