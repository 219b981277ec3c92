// Draws the lessons' stored plotly figures (application/vnd.plotly.v1+json outputs) with the local
// plotly.js, in the course pack's pages and in the slide decks. Widgets' outputs use the same function
// (course-widgets.js), so a figure looks and reads the same wherever it is stored.
(function () {
  "use strict";
  var PLOTLY_MIME = "application/vnd.plotly.v1+json";
  // On a 720 px slide a figure shares the height with its cell's code: a taller figure is drawn at most this
  // high (plotly lays it out for it), and a cell's own figure no higher than the room its slide leaves (an explorer's
  // figures scroll in its box, course-pages.css); pages keep the stored size.
  var SLIDE_HEIGHT = 720;
  var SLIDE_FIGURE_MAX_HEIGHT = 600;
  var SLIDE_FIGURE_MIN_HEIGHT = 300;

  function drawPlotlyFigure(element, figure) {
    var stored = figure.layout || {};
    var slide = element.closest(".reveal section");
    function slideLayout() {
      var height = Math.min(stored.height || 450, SLIDE_FIGURE_MAX_HEIGHT);
      if (element.offsetWidth && !element.closest(".widget-output")) {
        var room = SLIDE_HEIGHT - (slide.scrollHeight - element.offsetHeight);
        height = Math.max(Math.min(height, room), SLIDE_FIGURE_MIN_HEIGHT);
      }
      return Object.assign({}, stored, {height: height});
    }
    var config = Object.assign({responsive: true, displaylogo: false}, figure.config);
    // A figure in a hidden slide or a closed widget is drawn with no width. When it gets one, it is drawn
    // again from scratch: plotly keeps the legend height measured at the first drawing (at plotly's default
    // width, the legend wraps into more rows), and a legend below the plot stayed too high (it covered the
    // hourglass's bottom row). Later changes of width only resize it.
    var drawnWithWidth = element.offsetWidth > 0;
    new ResizeObserver(function () {
      if (!element.offsetWidth || !element.classList.contains("js-plotly-plot")) {
        return;
      }
      if (drawnWithWidth) {
        window.Plotly.Plots.resize(element);
      } else {
        drawnWithWidth = true;
        window.Plotly.purge(element);
        draw();
      }
    }).observe(element);
    // plotly writes into the layout and traces it draws (a first drawing with no width sets its height to
    // plotly's default): every drawing gets a fresh copy.
    function draw() {
      var layout = slide ? slideLayout() : stored;
      var copy = JSON.parse(JSON.stringify({data: figure.data, layout: layout}));
      return window.Plotly.newPlot(element, copy.data, copy.layout, config);
    }
    return draw();
  }

  // A figure's text alternative (unet_lessons.viz.alt_text: layout.meta = {alt, table}): the figure is drawn in a
  // <figure> whose caption is the description (its accessible name), with the plotted numbers in a table
  // under a <details>. A slide keeps the caption for screen readers only and leaves out the table (course-pages.css).
  function drawDescribedFigure(host, figure) {
    var meta = (figure.layout || {}).meta;
    if (!meta || !meta.alt) {
      return drawPlotlyFigure(host, figure);
    }
    var container = document.createElement("figure");
    container.className = "course-figure";
    var plot = document.createElement("div");
    var caption = document.createElement("figcaption");
    caption.className = "course-alt";
    caption.textContent = meta.alt;
    container.appendChild(plot);
    container.appendChild(caption);
    if (meta.table) {
      container.appendChild(dataTable(meta.table));
    }
    host.appendChild(container);
    return drawPlotlyFigure(plot, figure);
  }

  function dataTable(data) {
    var details = document.createElement("details");
    details.className = "course-data";
    var summary = document.createElement("summary");
    summary.textContent = "The numbers in this figure";
    var table = document.createElement("table");
    var head = table.createTHead().insertRow();
    data.columns.forEach(function (column) {
      var cell = document.createElement("th");
      cell.scope = "col";
      cell.textContent = column;
      head.appendChild(cell);
    });
    var body = table.createTBody();
    data.rows.forEach(function (row) {
      var line = body.insertRow();
      row.forEach(function (value) {
        line.insertCell().textContent = value;
      });
    });
    details.appendChild(summary);
    details.appendChild(table);
    return details;
  }

  window.courseDrawPlotlyFigure = drawDescribedFigure;

  // On a slide a long output scrolls in a box of its own (course-pages.css): such a box takes the keyboard focus, so
  // the keyboard can scroll it. Checked again, once per frame, whenever a slide is shown or a widget drawn.
  function focusScrollingOutputs() {
    document.querySelectorAll(".reveal .jp-OutputArea, .reveal .jp-RenderedText > pre").forEach(function (output) {
      if (output.scrollHeight > output.clientHeight) {
        output.tabIndex = 0;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll('script[type="' + PLOTLY_MIME + '"]').forEach(function (tag) {
      var element = document.createElement("div");
      tag.parentElement.insertBefore(element, tag);
      drawDescribedFigure(element, JSON.parse(tag.textContent));
    });
    if (document.querySelector(".reveal")) {
      var pending = false;
      new MutationObserver(function () {
        if (!pending) {
          pending = true;
          window.requestAnimationFrame(function () { pending = false; focusScrollingOutputs(); });
        }
      }).observe(document.body, {childList: true, subtree: true, attributes: true, attributeFilter: ["class"]});
    }
  });
}());
